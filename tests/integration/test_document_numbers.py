"""文号 under load (issue 15): two hundred documents issued at once, by eight workers of their
own, get two hundred distinct consecutive numbers; a document requested twice at once is issued
once, and the loser's number goes back to the sequence — nothing skipped.

On PostgreSQL, where writers really run at once (SQLite queues every writer behind one lock;
its numbers are checked in the API tests): each document is rendered, so two hundred take half
a minute."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from config.documents import DocumentKind
from engine.errors import Conflict
from engine.services import documents
from engine.services.context import Context, build_context
from engine.workflow.services import instances
from tests.factories import application
from tests.integration.test_admission_services import actor

DOCUMENTS = 200
WORKERS = 8
TWICE = 20  # instances whose document two workers ask for at the same time

# A kind issuable as soon as a matter is filed, numbered in a sequence of its own.
KIND = DocumentKind(
    key="receipt",
    title="受理回执",
    process="matter_admission",
    when="True",
    issuers=frozenset({"reviewer"}),
    template="approval_form.html",
    pattern="{county}编收〔{year}〕{n}号",
)


def _with_kind(ctx: Context) -> None:
    ctx.documents = replace(ctx.documents, kinds={**ctx.documents.kinds, KIND.key: KIND})


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_hundred_documents_at_once_are_numbered_without_gap_or_repeat(ctx: Context) -> None:
    _with_kind(ctx)
    nongye = actor(ctx, "nongye")
    matters = [
        instances.start(ctx, "matter_admission", application(name=f"巡查{i}"), nongye).id
        for i in range(DOCUMENTS)
    ]
    # Each worker takes its share; the first TWICE matters are also asked for by a neighbour.
    shares = [matters[w::WORKERS] for w in range(WORKERS)]
    for w in range(WORKERS):
        shares[w] += [m for i, m in enumerate(matters[:TWICE]) if i % WORKERS == (w + 1) % WORKERS]
    barrier = threading.Barrier(WORKERS)
    issued: list[tuple[int, str]] = []
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def work(share: list[int]) -> None:
        own = build_context(ctx.settings, clock=ctx.clock)  # a worker of its own
        _with_kind(own)
        who = actor(own, "bianban")
        barrier.wait()
        try:
            for matter in share:
                try:
                    doc = documents.issue(own, matter, KIND.key, who)
                    issued.append((matter, doc.number))
                except Conflict:
                    conflicts.append(matter)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            own.db.dispose()

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(conflicts) == TWICE  # each matter asked for twice got its document once
    assert sorted(m for m, _ in issued) == sorted(matters)
    year = ctx.calendar.local(ctx.clock.now()).year
    expected = {f"清编收〔{year}〕{n}号" for n in range(1, DOCUMENTS + 1)}
    assert sorted(n for _, n in issued) == sorted(expected)
