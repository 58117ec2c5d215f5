"""Matters numbered per kind and year (准〔2026〕3号), as offices cite them (issue 14): the prefix
is the procedure's diagram's; a refused filing takes no number; filings at once never share one
and leave no gap, on both databases."""

from __future__ import annotations

import threading

import pytest

from engine.errors import InvalidInput
from engine.services.context import Context, build_context
from engine.workflow.services import instances
from tests.factories import application
from tests.integration.test_admission_services import actor

PARALLEL = 6


def year(ctx: Context) -> int:
    return ctx.calendar.local(ctx.clock.now()).year


def test_each_kind_is_numbered_in_its_own_sequence(ctx: Context) -> None:
    nongye, y = actor(ctx, "nongye"), year(ctx)
    first = instances.start(ctx, "matter_admission", application(), nongye)
    with pytest.raises(InvalidInput):  # refused: rolled back, and its number with it
        instances.start(ctx, "matter_admission", application(name=""), nongye)
    second = instances.start(ctx, "matter_admission", application(name="秸秆禁烧巡查"), nongye)
    assert (first.number, second.number) == (f"准〔{y}〕1号", f"准〔{y}〕2号")
    assert instances.get(ctx, second.id, actor(ctx, "jiwei")).number == f"准〔{y}〕2号"
    found = instances.search(ctx, nongye, instances.InstanceFilter())
    assert {i.number for i in found.items} == {f"准〔{y}〕1号", f"准〔{y}〕2号"}


def test_filings_at_once_never_share_a_number(ctx: Context) -> None:
    barrier, numbers, errors = threading.Barrier(PARALLEL), [], []

    def file(i: int) -> None:
        own = build_context(ctx.settings, clock=ctx.clock)  # a worker of its own
        who = actor(own, "nongye")
        barrier.wait()
        try:
            numbers.append(
                instances.start(own, "matter_admission", application(name=f"巡查{i}"), who).number
            )
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            own.db.dispose()

    threads = [threading.Thread(target=file, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    y = year(ctx)
    assert sorted(numbers) == sorted(f"准〔{y}〕{n}号" for n in range(1, PARALLEL + 1))
