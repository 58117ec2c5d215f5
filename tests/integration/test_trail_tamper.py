"""The tamper matrix: every way of altering the trail is caught and named, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from engine.errors import Conflict, Forbidden
from engine.models import AuditEvent, Instance, User
from engine.services.context import Context
from engine.trail import signing, trail_log
from engine.trail.models_trail import Checkpoint, install_append_only
from engine.trail.services import trail
from engine.workflow import audit
from tests.integration.test_admission_services import actor, admit
from tests.trail_helpers import attacker, chain, configure_key, rehash


@pytest.fixture
def signer(ctx: Context, tmp_path: Path) -> signing.Signer:
    return configure_key(ctx, tmp_path)


@pytest.fixture
def matters(ctx: Context, signer: signing.Signer) -> list[int]:
    """Two admitted matters, each with a trail of a dozen events."""
    return [admit(ctx, ["chengguan"]), admit(ctx, ["donghe"])]


def seal(ctx: Context) -> str:
    return trail.create_checkpoint(ctx, actor(ctx, "jiwei")).note


def verify(ctx: Context, held: list[str] | None = None) -> trail.VerifyReport:
    return trail.verify(ctx, actor(ctx, "jiwei"), held or [])


def at(report: trail.VerifyReport, instance_id: int | None, seq: int) -> list[trail.Problem]:
    return [p for p in report.problems if (p.instance_id, p.seq) == (instance_id, seq)]


def event_id(ctx: Context, instance_id: int, seq: int) -> int:
    with ctx.db.read() as session:
        found = session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.instance_id == instance_id, AuditEvent.seq == seq
            )
        )
        assert found is not None
        return found


def test_an_untouched_trail_verifies_with_its_checkpoints(ctx: Context, matters: list[int]) -> None:
    held = seal(ctx)
    report = verify(ctx, [held])
    assert report.ok, report.problems
    assert report.events_since_checkpoint == 0
    assert report.checkpoints == 1 and report.held_checkpoints == 1
    assert report.chains >= 3  # two matters and the administrative chain


def test_edited_payload_is_named(ctx: Context, matters: list[int]) -> None:
    seal(ctx)
    target = event_id(ctx, matters[0], 3)
    with attacker(ctx) as conn:
        conn.execute(
            update(AuditEvent).where(AuditEvent.id == target).values(payload_json='{"forged":1}')
        )
    report = verify(ctx)
    assert not report.ok
    [problem] = at(report, matters[0], 3)
    assert problem.kind == "chain" and problem.event_id == target
    assert "事件内容与哈希不符" in problem.message


def test_a_log_read_in_many_batches_verifies_and_names_the_edit(
    ctx: Context, matters: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of two events: on PostgreSQL each is fetched on a second thread while the last
    is checked; a reader that stops early leaves the connection usable."""
    monkeypatch.setattr(trail_log, "BATCH", 2)
    seal(ctx)
    assert verify(ctx).ok
    target = event_id(ctx, matters[1], 5)
    with attacker(ctx) as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(task="forged"))
    report = verify(ctx)
    assert [(p.instance_id, p.seq) for p in report.problems] == [(matters[1], 5)]
    with ctx.db.read() as session:
        rows = trail_log.chain_rows(session)
        first = [next(rows) for _ in range(3)]
        rows.close()  # the reader stops with batches still on the server
        assert len(first) == 3
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.id == target)) == target


def test_edited_actor_is_named(ctx: Context, matters: list[int]) -> None:
    target = event_id(ctx, matters[1], 2)
    with attacker(ctx) as conn:
        someone = conn.scalar(select(User.id).where(User.username == "jiaoyu"))
        conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(actor_id=someone))
    report = verify(ctx)
    assert [p.event_id for p in at(report, matters[1], 2)] == [target]
    assert report.problem_count == 1


def test_deleted_event_is_named(ctx: Context, matters: list[int]) -> None:
    seal(ctx)
    with attacker(ctx) as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.id == event_id(ctx, matters[0], 3)))
    report = verify(ctx)
    assert any("应为 3" in p.message for p in at(report, matters[0], 4))
    # The checkpoint, too, no longer matches the log.
    assert any(p.kind == "checkpoint" and "只有" in p.message for p in report.problems)


def test_reordered_events_are_named(ctx: Context, matters: list[int]) -> None:
    second, third = event_id(ctx, matters[0], 2), event_id(ctx, matters[0], 3)
    with attacker(ctx) as conn:
        for target, seq in ((second, -1), (third, 2), (second, 3)):
            conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(seq=seq))
    report = verify(ctx)
    assert {p.event_id for p in at(report, matters[0], 2) + at(report, matters[0], 3)} == {
        second,
        third,
    }


def test_events_swapped_in_the_order_written_are_named(ctx: Context, matters: list[int]) -> None:
    """Two events of a chain trade places in the log (their ids), each keeping its content and
    hashes: the chain read by seq still links, but it was not written in that order."""
    third, fourth = event_id(ctx, matters[0], 3), event_id(ctx, matters[0], 4)
    with attacker(ctx) as conn:
        for target, new_id in ((third, -1), (fourth, third), (-1, fourth)):
            conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(id=new_id))
    report = verify(ctx)
    assert [(p.instance_id, p.seq, p.event_id) for p in report.problems] == [(matters[0], 4, third)]
    assert "写入顺序与序号不符" in report.problems[0].message


def test_an_inserted_event_breaks_the_link_after_it(ctx: Context, matters: list[int]) -> None:
    instance_id = matters[0]
    with attacker(ctx) as conn:
        rows = chain(conn, instance_id)
        for row in reversed(rows[2:]):  # make room at seq 3
            conn.execute(update(AuditEvent).where(AuditEvent.id == row[0]).values(seq=row[2] + 1))
        before = rows[1]
        forged = {
            "instance_id": instance_id,
            "seq": 3,
            "at": before.at,
            "actor_id": before.actor_id,
            "actor_org_id": before.actor_org_id,
            "role": before.role,
            "action": "task_completed",
            "task": "review",
            "payload_json": '{"form":{"decision":"pass"}}',
            "prev_hash": before.hash,
        }
        body = audit.event_text(**{k: v for k, v in forged.items() if k != "prev_hash"})
        forged["hash"] = audit.chain_hash(before.hash, body)
        inserted = conn.execute(insert(AuditEvent).values(**forged).returning(AuditEvent.id))
        inserted_id = inserted.scalar_one()
    report = verify(ctx)
    # Read chain by chain, the forged event fits where it was put (it was made to): the event
    # it pushed down no longer links to it, and the chain now ends past its recorded head.
    pushed = [p.message for p in at(report, instance_id, 4) if p.event_id == rows[2][0]]
    assert any("前序哈希不匹配" in message for message in pushed), report.problems
    head = [p for p in report.problems if p.kind == "head" and p.instance_id == instance_id]
    assert len(head) == 1 and "事后追加" in head[0].message
    assert inserted_id not in {p.event_id for p in report.problems}


def test_truncated_tail_is_caught_by_a_checkpoint(ctx: Context, matters: list[int]) -> None:
    first = trail.create_checkpoint(ctx, actor(ctx, "jiwei"))
    late = admit(ctx, ["xishan"])
    second = trail.create_checkpoint(ctx, actor(ctx, "jiwei"))
    with attacker(ctx) as conn:
        tail = chain(conn, late)[-2:]
        conn.execute(delete(AuditEvent).where(AuditEvent.id.in_([row[0] for row in tail])))
        rehash(conn, late)  # the instance row's head now agrees: only checkpoints remember
        first_after = conn.scalar(
            select(AuditEvent.id).order_by(AuditEvent.id).offset(first.size).limit(1)
        )
    report = verify(ctx)
    [problem] = [p for p in report.problems if p.kind == "checkpoint"]
    assert problem.checkpoint_id == second.id
    assert f"只有 {second.size - 2} 个" in problem.message
    assert f"第 {first.size + 1}–{second.size} 个事件" in problem.message
    assert problem.first_event_id == first_after
    assert [p.kind for p in report.problems] == ["checkpoint"]


def test_truncated_tail_is_named_by_the_instance_head(ctx: Context, matters: list[int]) -> None:
    with attacker(ctx) as conn:
        tail = chain(conn, matters[1])[-1]
        conn.execute(delete(AuditEvent).where(AuditEvent.id == tail[0]))
    report = verify(ctx)
    [problem] = [p for p in report.problems if p.kind == "head"]
    assert (problem.instance_id, problem.seq) == (matters[1], tail[2])


def test_each_instance_head_is_held_against_its_own_chain(ctx: Context, matters: list[int]) -> None:
    """The heads are checked beside the chains, in instance order, keeping nothing per chain:
    a matter whose whole chain is gone and one whose row forgot its head are each named, and
    no other (the administrative chain sorts first on SQLite, last on PostgreSQL)."""
    third = admit(ctx, ["xishan"])
    with attacker(ctx) as conn:
        gone = chain(conn, matters[0])
        conn.execute(delete(AuditEvent).where(AuditEvent.instance_id == matters[0]))
        forgot = update(Instance).where(Instance.id == third)
        conn.execute(forgot.values(trail_seq=0, trail_head=audit.GENESIS))
    report = verify(ctx)
    heads = {p.instance_id: p.message for p in report.problems if p.kind == "head"}
    assert set(heads) == {matters[0], third}
    assert f"链尾缺少第 1–{len(gone)} 号事件" in heads[matters[0]]
    assert "在事项记录的链头之后：事后追加" in heads[third]
    assert [p.kind for p in report.problems] == ["head", "head"]
    assert report.problem_count == 2


def test_rewritten_history_is_caught_by_a_held_checkpoint(ctx: Context, matters: list[int]) -> None:
    held = seal(ctx)
    target = event_id(ctx, matters[0], 3)
    with attacker(ctx) as conn:
        conn.execute(
            update(AuditEvent).where(AuditEvent.id == target).values(payload_json='{"forged":1}')
        )
        rehash(conn, matters[0], from_seq=3)
        conn.execute(delete(Checkpoint))  # and the service's own checkpoints are gone
    trail.create_checkpoint(ctx, actor(ctx, "jiwei"))  # signs the rewritten log
    assert verify(ctx).ok  # nothing on the server can tell any more …
    report = verify(ctx, [held])  # … but the auditor's checkpoint can
    [problem] = report.problems
    assert problem.kind == "checkpoint" and problem.checkpoint_id is None
    assert "所持检查点 1" in problem.message and "分叉视图" in problem.message
    assert problem.first_event_id is not None and problem.last_event_id is not None
    assert problem.first_event_id <= target <= problem.last_event_id


def test_rewritten_history_is_caught_by_stored_checkpoints(
    ctx: Context, matters: list[int]
) -> None:
    seal(ctx)
    target = event_id(ctx, matters[1], 2)
    with attacker(ctx) as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(task="forged"))
        rehash(conn, matters[1], from_seq=2)
    report = verify(ctx)
    [problem] = report.problems
    assert problem.kind == "checkpoint" and problem.last_event_id is not None
    assert problem.first_event_id is not None
    assert problem.first_event_id <= target <= problem.last_event_id
    admit(ctx, ["nanhu"])
    with pytest.raises(Conflict, match="不一致"):  # and no new checkpoint launders it
        trail.create_checkpoint(ctx, actor(ctx, "jiwei"))


def test_a_checkpoint_signed_over_rewritten_history_breaks_with_the_one_before(
    ctx: Context, matters: list[int], signer: signing.Signer
) -> None:
    """Whoever holds the key rewrites history and signs a checkpoint over it: today's log
    reproduces the new one, so the stored one before it is what breaks, and the new one
    does not extend it."""
    seal(ctx)
    target = event_id(ctx, matters[0], 2)
    with attacker(ctx) as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == target).values(task="forged"))
        rehash(conn, matters[0], from_seq=2)
    with ctx.db.read() as session:
        size = trail_log.count(session)
        root = trail_log.log_roots(session, size).root()
    note = signing.sign_checkpoint(
        signing.CheckpointBody(ctx.settings.audit_origin, size, root), signer
    )
    with attacker(ctx) as conn:
        conn.execute(
            insert(Checkpoint).values(
                size=size, root=root.hex(), note=note, created_at=ctx.clock.now()
            )
        )
    report = verify(ctx)
    first, second = sorted(report.problems, key=lambda p: p.checkpoint_id or 0)
    assert "今日日志的前" in first.message and "与检查点不符" in first.message
    assert "与上一个检查点（检查点 #" in second.message and "一致性证明不成立" in second.message


def test_forged_checkpoint_signature_is_named(ctx: Context, matters: list[int]) -> None:
    seal(ctx)
    with attacker(ctx) as conn:
        row = conn.execute(select(Checkpoint.id, Checkpoint.note)).one()
        lines = row.note.split("\n")
        lines[1] = str(int(lines[1]) - 1)  # claim a shorter log under the same signature
        conn.execute(
            update(Checkpoint).where(Checkpoint.id == row.id).values(note="\n".join(lines))
        )
    forger = signing.generate_signer("zhunru.test/trail")
    with ctx.db.read() as session:
        size = session.scalar(select(Checkpoint.size))
    body = signing.CheckpointBody("zhunru.test/trail", size or 0, b"\x00" * 32)
    report = verify(ctx, [signing.sign_checkpoint(body, forger)])
    stored = [p for p in report.problems if p.checkpoint_id == row.id]
    assert stored and "签名无效" in stored[0].message
    assert any(
        "所持检查点 1" in p.message and "没有可识别密钥" in p.message for p in report.problems
    )


def test_events_since_the_last_checkpoint_are_counted(ctx: Context, matters: list[int]) -> None:
    made = trail.create_checkpoint(ctx, actor(ctx, "jiwei"))
    assert trail.create_checkpoint(ctx, actor(ctx, "admin")).id == made.id  # nothing new
    admit(ctx, ["beiling"])
    report = verify(ctx)
    assert report.ok and report.events_since_checkpoint == report.events - made.size > 0


def test_only_auditors_verify_and_only_auditors_or_admins_seal(
    ctx: Context, matters: list[int]
) -> None:
    for username in ("bianban", "nongye", "admin"):
        with pytest.raises(Forbidden):
            trail.verify(ctx, actor(ctx, username))
    with pytest.raises(Forbidden):
        trail.create_checkpoint(ctx, actor(ctx, "xianwei"))


def test_postgresql_refuses_to_change_the_trail(ctx: Context, matters: list[int]) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite cannot refuse: it has no roles, and triggers can be dropped by anyone")
    seal(ctx)
    statements = [
        update(AuditEvent).where(AuditEvent.seq == 1).values(payload_json="{}"),
        delete(AuditEvent).where(AuditEvent.instance_id == matters[0]),
        update(Checkpoint).values(note="forged"),
        delete(Checkpoint),
        text("TRUNCATE audit_event CASCADE"),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="只能追加"):
            with ctx.db.engine.begin() as conn:
                conn.execute(statement)
    report = verify(ctx)
    assert report.ok and not report.warnings


def test_triggers_install_again_on_an_existing_database(ctx: Context, matters: list[int]) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite has no append-only triggers")
    with ctx.db.engine.begin() as conn:
        install_append_only(conn)
        install_append_only(conn)  # idempotent, e.g. from a migration
    with pytest.raises(DBAPIError, match="表 audit_event，操作 DELETE"):
        with ctx.db.engine.begin() as conn:
            conn.execute(delete(AuditEvent))
