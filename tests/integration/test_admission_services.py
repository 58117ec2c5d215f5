"""The admission process through the use cases, on real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select, text, update

from engine.admission.services import matters
from engine.authz import Actor, instance_scope
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from engine.models import AuditEvent, Instance, InstanceTownship, Organization, User
from engine.services import accounts, notices
from engine.services.context import Context
from engine.workflow.audit import verify_chain
from engine.workflow.services import instances, tasks
from tests.conftest import DEMO_PASSWORD
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application, returned


def actor(ctx: Context, username: str) -> Actor:
    token = accounts.authenticate(ctx, username, DEMO_PASSWORD)
    return accounts.actor_for_token(ctx, token.access_token)


def take(ctx: Context, username: str, form: dict[str, Any], bpmn_id: str | None = None):
    who = actor(ctx, username)
    inbox = [t for t in tasks.inbox(ctx, who) if bpmn_id is None or t.bpmn_id == bpmn_id]
    assert inbox, f"{username} has nothing to do"
    return tasks.complete(ctx, inbox[0].id, form, who)


def admit(ctx: Context, townships: list[str] | None = None) -> int:
    detail = instances.start(
        ctx,
        "matter_admission",
        application(townships=townships or ["chengguan", "donghe"]),
        actor(ctx, "nongye"),
    )
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", PASS)
    take(ctx, "xianwei", APPROVE)
    for township in townships or ["chengguan", "donghe"]:
        take(ctx, township, CONFIRM)
    return detail.id


def test_matter_enters_each_register_and_leaves_with_townships_told(ctx: Context) -> None:
    instance_id = admit(ctx)
    nongye = actor(ctx, "nongye")
    assert instances.get(ctx, instance_id, nongye).status == "in_force"
    register = matters.register(ctx, actor(ctx, "donghe"))
    assert [(r.instance_id, r.township.code, r.status) for r in register] == [
        (instance_id, "donghe", "in_force")
    ]

    detail = instances.withdraw(ctx, instance_id, {"reason": "巡查任务已完成"}, nongye)

    assert detail.status == "exited"
    assert {r.status for r in matters.register(ctx, actor(ctx, "jiwei"))} == {"exited"}
    for township in ("chengguan", "donghe"):
        told = notices.notifications(ctx, actor(ctx, township))  # newest first
        assert [n.kind for n in told] == ["matter_exited", "matter_incoming"]
        assert "已退出" in told[0].message and "请在办理时限内确认进入" in told[1].message
    assert notices.notifications(ctx, actor(ctx, "xishan")) == []


def test_trail_records_every_step_with_actor_and_organisation(ctx: Context) -> None:
    instance_id = admit(ctx, ["xishan"])
    entries = instances.trail(ctx, instance_id, actor(ctx, "jiwei"))
    completed = [
        (e.task, e.actor, e.organization.code) for e in entries if e.action == "task_completed"
    ]
    assert completed == [
        ("legal_review", "sifa", "sifa"),
        ("review", "bianban", "bianban"),
        ("approve", "xianwei", "xianwei"),
        ("confirm_entry", "xishan", "xishan"),
    ]
    assert entries[0].action == "instance_started" and entries[0].actor == "nongye"
    with ctx.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(list(events)) == []


def test_edited_trail_event_breaks_the_chain(ctx: Context) -> None:
    instance_id = admit(ctx, ["xishan"])
    with ctx.db.write() as session:
        if not ctx.db.is_sqlite:  # get past the append-only trigger, as only a superuser can
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.instance_id == instance_id, AuditEvent.seq == 4)
            .values(payload_json='{"name":"合法性审查","form":{"opinion":"unlawful"}}')
        )
    with ctx.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        ).all()
        assert [p.seq for p in verify_chain(list(events))] == [4]


def test_reads_are_scoped_to_organisation_and_role(ctx: Context) -> None:
    instance_id = admit(ctx, ["chengguan"])
    for username in ("nongye", "chengguan", "bianban", "sifa", "xianwei", "jiwei"):
        assert instances.get(ctx, instance_id, actor(ctx, username)).id == instance_id
    for username in ("jiaoyu", "donghe", "admin"):
        with pytest.raises(NotFound):
            instances.get(ctx, instance_id, actor(ctx, username))
        with pytest.raises(NotFound):
            instances.trail(ctx, instance_id, actor(ctx, username))
        assert instances.search(ctx, actor(ctx, username), instances.InstanceFilter()).total == 0


def test_a_search_past_its_count_cap_says_so_and_still_pages_to_the_end(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(instances, "COUNT_CAP", 3)
    nongye, jiwei = actor(ctx, "nongye"), actor(ctx, "jiwei")
    started = [instances.start(ctx, "matter_admission", application(), nongye).id for _ in range(5)]
    pages = [
        instances.search(ctx, jiwei, instances.InstanceFilter(page=n, per_page=2))
        for n in (1, 2, 3)
    ]
    # Counting stops at the cap (or at the page asked for): the total is then a lower bound.
    assert [(p.total, p.total_exact, p.more) for p in pages] == [
        (3, False, True),
        (4, False, True),
        (5, True, False),
    ]
    listed = [item.id for p in pages for item in p.items]
    assert listed == sorted(started, reverse=True)
    pending = instances.search(ctx, jiwei, instances.InstanceFilter(status="pending"))
    assert {item.id for item in pending.items} == set(started)


def test_auditor_reads_everything_but_changes_nothing(ctx: Context) -> None:
    instance_id = admit(ctx, ["chengguan"])
    jiwei = actor(ctx, "jiwei")
    assert instances.search(ctx, jiwei, instances.InstanceFilter()).total == 1
    with pytest.raises(Forbidden):
        instances.withdraw(ctx, instance_id, {"reason": "x"}, jiwei)
    with pytest.raises(Forbidden):
        instances.start(ctx, "matter_admission", application(), jiwei)


def _second_user(ctx: Context, org_code: str, username: str, roles: list[str]) -> Actor:
    with ctx.db.write() as session:
        org = session.scalar(select(Organization).where(Organization.code == org_code))
        accounts.add_user(
            session,
            username=username,
            display_name=username,
            password=DEMO_PASSWORD,
            org=org,
            roles=roles,
            by=None,
            at=ctx.clock.now(),
        )
    return actor(ctx, username)


def test_nobody_reviews_what_their_own_organisation_filed(ctx: Context) -> None:
    # The justice bureau files a matter of its own; its legal reviewer may not judge it.
    filer = _second_user(ctx, "sifa", "sifa_filer", ["applicant"])
    detail = instances.start(ctx, "matter_admission", application(), filer)
    sifa = actor(ctx, "sifa")
    assert [t for t in tasks.inbox(ctx, sifa) if t.instance_id == detail.id] == []
    with pytest.raises(Forbidden, match="职责分离"):
        tasks.complete(ctx, detail.open_tasks[0].id, LAWFUL, sifa)


def test_claimed_task_belongs_to_its_claimant(ctx: Context) -> None:
    instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    colleague = _second_user(ctx, "sifa", "sifa2", ["legal_reviewer"])
    sifa = actor(ctx, "sifa")
    task = tasks.inbox(ctx, sifa)[0]
    assert tasks.claim(ctx, task.id, sifa).assignee == "sifa"
    assert tasks.inbox(ctx, colleague) == []
    with pytest.raises(Forbidden):
        tasks.complete(ctx, task.id, LAWFUL, colleague)
    tasks.complete(ctx, task.id, LAWFUL, sifa)


def test_completed_task_cannot_be_completed_again(ctx: Context) -> None:
    detail = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    sifa = actor(ctx, "sifa")
    tasks.complete(ctx, detail.open_tasks[0].id, LAWFUL, sifa)
    with pytest.raises(Conflict):
        tasks.complete(ctx, detail.open_tasks[0].id, LAWFUL, sifa)


def test_invalid_form_changes_nothing(ctx: Context) -> None:
    detail = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    with ctx.db.read() as session:
        before = session.get(Instance, detail.id).state
        events = session.query(AuditEvent).count()
    with pytest.raises(InvalidInput):
        tasks.complete(ctx, detail.open_tasks[0].id, {"opinion": "maybe"}, actor(ctx, "sifa"))
    with ctx.db.read() as session:
        assert session.get(Instance, detail.id).state == before
        assert session.query(AuditEvent).count() == events


def test_resubmission_can_change_the_target_townships(ctx: Context) -> None:
    nongye = actor(ctx, "nongye")
    detail = instances.start(ctx, "matter_admission", application(), nongye)
    take(ctx, "sifa", LAWFUL)
    take(ctx, "bianban", returned("请只在试点乡镇开展"))
    revised = application(name="高标准农田巡查（试点）", townships=["beiling"])
    take(ctx, "nongye", {"action": "resubmit", "application": revised})
    after = instances.get(ctx, detail.id, nongye)
    assert after.title == "高标准农田巡查（试点）"
    assert [t.code for t in after.townships] == ["beiling"]
    with pytest.raises(NotFound):
        instances.get(ctx, detail.id, actor(ctx, "chengguan"))


def test_a_township_s_search_lists_its_matters_newest_filed_first(ctx: Context, clock) -> None:
    """Even a matter a resubmission addressed to it after later ones were filed: a township's
    list is read along its own links, which keep their matter's filing time."""
    from datetime import timedelta

    nongye = actor(ctx, "nongye")
    filed = []
    for name, townships in (
        ("甲", ["chengguan"]),
        ("乙", ["beiling"]),
        ("丙", ["beiling", "chengguan"]),
    ):
        body = application(name=name, townships=townships)
        filed.append(instances.start(ctx, "matter_admission", body, nongye).id)
        clock.advance(timedelta(minutes=1))
    first, second, third = filed
    take(ctx, "sifa", LAWFUL)  # the oldest legal review: 甲's
    take(ctx, "bianban", returned("请同时安排北岭乡"))
    revised = application(name="甲", townships=["chengguan", "beiling"])
    take(ctx, "nongye", {"action": "resubmit", "application": revised})

    beiling, chengguan = actor(ctx, "beiling"), actor(ctx, "chengguan")
    listed = instances.search(ctx, beiling, instances.InstanceFilter())
    assert [item.id for item in listed.items] == [third, second, first]
    assert (listed.total, listed.total_exact) == (3, True)
    paged = instances.search(ctx, beiling, instances.InstanceFilter(page=2, per_page=2))
    assert [item.id for item in paged.items] == [first]
    assert (paged.total, paged.more) == (3, False)
    both = instances.search(ctx, beiling, instances.InstanceFilter(township="chengguan"))
    assert [item.id for item in both.items] == [third, first]
    assert [i.id for i in instances.search(ctx, chengguan, instances.InstanceFilter()).items] == [
        third,
        first,
    ]
    # The list above was read along beiling's links; the general path (a filter every matter
    # here passes) reads the same, and every link holds its matter's filing time.
    with ctx.db.read() as session:
        assert instances._visible(session, instance_scope(beiling))[1] == beiling.org_id
        mismatched = session.execute(
            select(InstanceTownship.instance_id)
            .join(Instance, Instance.id == InstanceTownship.instance_id)
            .where(InstanceTownship.created_at != Instance.created_at)
        ).all()
    assert mismatched == []
    general = instances.search(
        ctx, beiling, instances.InstanceFilter(process_id="matter_admission")
    )
    assert [(i.id, i.title) for i in general.items] == [(i.id, i.title) for i in listed.items]
    assert (general.total, general.total_exact) == (listed.total, listed.total_exact)


def test_objection_upheld_takes_the_matter_out(ctx: Context) -> None:
    instance_id = admit(ctx, ["donghe"])
    donghe = actor(ctx, "donghe")
    assert instances.get(ctx, instance_id, donghe).actions == ["object"]
    instances.object_to(ctx, instance_id, {"reason": "经费未到位"}, donghe)
    with pytest.raises(Conflict):
        instances.object_to(ctx, instance_id, {"reason": "再次异议"}, donghe)
    # The only township leaving takes the matter out, whichever way it is put.
    detail = take(ctx, "bianban", {"decision": "township_exits", "comment": "经核实资源未下放"})
    assert detail.status == "exited"
    assert matters.register(ctx, donghe)[0].exit_reason == "objection"


def test_an_objection_is_decided_for_the_township_that_raised_it(ctx: Context) -> None:
    instance_id = admit(ctx)  # 城关 and 东河
    donghe, chengguan, nongye = actor(ctx, "donghe"), actor(ctx, "chengguan"), actor(ctx, "nongye")
    instances.object_to(ctx, instance_id, {"reason": "本乡无相应执法力量"}, donghe)
    [raised] = [n for n in notices.notifications(ctx, nongye) if n.kind == "objection_raised"]
    assert raised.message.startswith("东河乡：") and "本乡无相应执法力量" in raised.message
    kept = take(ctx, "bianban", {"decision": "keep", "comment": "已协调县局派员指导"})
    assert kept.status == "in_force"
    told = [n.message for n in notices.notifications(ctx, donghe) if n.kind == "objection_decided"]
    assert told and "异议不予支持" in told[0] and "已协调县局派员指导" in told[0]
    copied = [
        n.message for n in notices.notifications(ctx, nongye) if n.kind == "objection_decided"
    ]
    assert copied and copied[0].startswith("（致东河乡）")

    instances.object_to(ctx, instance_id, {"reason": "仍无力承担"}, donghe)
    decided = take(ctx, "bianban", {"decision": "township_exits", "comment": "该乡确无相应职能"})
    assert decided.status == "in_force"  # 城关 keeps it
    register = {e.township.code: e.status for e in matters.register(ctx, nongye)}
    assert register == {"chengguan": "in_force", "donghe": "exited"}
    assert any("不再由本乡镇承担" in n.message for n in notices.notifications(ctx, donghe))
    assert any(
        "已不再由东河乡承担" in n.message and "其他乡镇继续承担" in n.message
        for n in notices.notifications(ctx, nongye)
    )
    # 东河 no longer carries it: it may not object again; 城关 still may.
    assert instances.get(ctx, instance_id, donghe).actions == []
    with pytest.raises(Conflict):
        instances.object_to(ctx, instance_id, {"reason": "再提"}, donghe)
    assert instances.get(ctx, instance_id, chengguan).actions == ["object"]
    instances.object_to(ctx, instance_id, {"reason": "城关也无力承担"}, chengguan)
    last = take(ctx, "bianban", {"decision": "township_exits", "comment": "最后一个乡镇退出"})
    assert last.status == "exited"


def test_township_not_addressed_cannot_object(ctx: Context) -> None:
    instance_id = admit(ctx, ["donghe"])
    with pytest.raises(NotFound):
        instances.object_to(ctx, instance_id, {"reason": "x"}, actor(ctx, "xishan"))


def test_two_simultaneous_completions_one_wins_one_conflicts(ctx: Context) -> None:
    detail = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    colleague = _second_user(ctx, "sifa", "sifa2", ["legal_reviewer"])
    sifa = actor(ctx, "sifa")
    task_id = detail.open_tasks[0].id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(who: Actor, opinion: str) -> None:
        barrier.wait()
        try:
            tasks.complete(ctx, task_id, {"opinion": opinion, "comment": "意见"}, who)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=complete, args=(sifa, "lawful")),
        threading.Thread(target=complete, args=(colleague, "needs_change")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with ctx.db.read() as session:
        completed = session.scalars(
            select(AuditEvent).where(
                AuditEvent.instance_id == detail.id, AuditEvent.action == "task_completed"
            )
        ).all()
        assert len(completed) == 1


def test_stale_instance_version_is_refused(ctx: Context) -> None:
    detail = instances.start(ctx, "matter_admission", application(), actor(ctx, "nongye"))
    with pytest.raises(Conflict):
        with ctx.db.write() as session:
            instance = session.get(Instance, detail.id)
            # Someone else committed in between: simulate by bumping the version underneath.
            session.execute(
                update(Instance.__table__)
                .where(Instance.__table__.c.id == detail.id)
                .values(version=Instance.__table__.c.version + 1)
            )
            instance.title = "改名"
    with ctx.db.read() as session:
        assert session.get(Instance, detail.id).title == application()["name"]


def test_inactive_user_cannot_sign_in(ctx: Context) -> None:
    with ctx.db.write() as session:
        session.execute(update(User).where(User.username == "jiaoyu").values(active=False))
    with pytest.raises(Unauthenticated, match="用户名或密码错误"):
        accounts.authenticate(ctx, "jiaoyu", DEMO_PASSWORD)


def test_user_with_two_roles_sees_both_inboxes_oldest_first(ctx: Context, clock) -> None:
    from datetime import timedelta

    both = _second_user(ctx, "bianban", "bianban_legal", ["reviewer", "legal_reviewer"])
    nongye = actor(ctx, "nongye")
    first = instances.start(ctx, "matter_admission", application(name="甲"), nongye)
    clock.advance(timedelta(minutes=1))
    take(ctx, "sifa", LAWFUL)  # 甲 moves on to review
    clock.advance(timedelta(minutes=1))
    second = instances.start(ctx, "matter_admission", application(name="乙"), nongye)
    inbox = tasks.inbox(ctx, both)
    assert [(t.instance_id, t.bpmn_id) for t in inbox] == [
        (first.id, "review"),
        (second.id, "legal_review"),
    ]
