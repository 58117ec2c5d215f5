"""The burden report counts what the database holds, scoped to the caller."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from engine.admission.services import burden
from engine.authz import Actor
from engine.models import Task
from engine.services import accounts
from engine.services.context import Context
from engine.workflow.services import instances, tasks
from tests.conftest import DEMO_PASSWORD
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application, rejected, returned

NOT_RECEIVED = {"confirmed": True, "resources_received": False, "comment": "经费尚未拨付"}


_ACTORS: dict[tuple[str, str], Actor] = {}


def actor(ctx: Context, username: str) -> Actor:
    """The signed-in user (signing in hashes a password: once per database and user)."""
    key = (ctx.settings.database_url, username)
    if key not in _ACTORS:
        token = accounts.authenticate(ctx, username, DEMO_PASSWORD)
        _ACTORS[key] = accounts.actor_for_token(ctx, token.access_token)
    return _ACTORS[key]


def step(ctx: Context, username: str, instance_id: int, form: dict[str, Any]) -> None:
    who = actor(ctx, username)
    [task] = [t for t in tasks.inbox(ctx, who, per_page=100) if t.instance_id == instance_id]
    tasks.complete(ctx, task.id, form, who)


def file(ctx: Context, username: str, **overrides: Any) -> int:
    return instances.start(
        ctx, "matter_admission", application(**overrides), actor(ctx, username)
    ).id


def admit(ctx: Context, instance_id: int, confirmations: dict[str, dict]) -> None:
    for username, form in (("sifa", LAWFUL), ("bianban", PASS), ("xianwei", APPROVE)):
        step(ctx, username, instance_id, form)
    for township, form in confirmations.items():
        step(ctx, township, instance_id, form)


@pytest.fixture
def county(ctx: Context, clock) -> dict[str, int]:
    """Five applications in every state a report counts."""
    ids = {"admitted": file(ctx, "nongye")}
    admit(ctx, ids["admitted"], {"chengguan": CONFIRM, "donghe": NOT_RECEIVED})
    ids["pending"] = file(ctx, "nongye", name="耕地撂荒情况排查", townships=["chengguan"])
    with ctx.db.write() as session:
        session.execute(
            update(Task)
            .where(Task.instance_id == ids["pending"], Task.state == "open")
            .values(due_at=clock.now() - timedelta(days=1))
        )
    ids["rejected"] = file(ctx, "jiaoyu", name="学生资助信息核查", townships=["donghe"])
    step(ctx, "sifa", ids["rejected"], LAWFUL)
    step(ctx, "bianban", ids["rejected"], rejected(["no_resources", "duplicates_list_item"]))
    ids["returned"] = file(ctx, "jiaoyu", name="校园周边安全巡查", townships=["xishan"])
    step(ctx, "sifa", ids["returned"], LAWFUL)
    step(ctx, "bianban", ids["returned"], returned())
    revised = application(name="校园周边安全巡查（修改）", townships=["xishan"])
    step(ctx, "jiaoyu", ids["returned"], {"action": "resubmit", "application": revised})
    ids["exited"] = file(ctx, "minzheng", name="困难群众走访慰问", townships=["chengguan"])
    admit(ctx, ids["exited"], {"chengguan": CONFIRM})
    instances.withdraw(ctx, ids["exited"], {"reason": "慰问结束"}, actor(ctx, "minzheng"))
    return ids


def rows_by_code(items: list, attr: str) -> dict[str, Any]:
    return {getattr(row, attr).code: row for row in items}


def test_township_rows_match_the_instances(ctx: Context, county) -> None:
    report = burden.report(ctx, actor(ctx, "jiwei"))
    towns = rows_by_code(report.townships, "township")
    assert list(towns) == ["beiling", "chengguan", "donghe", "nanhu", "xishan"]
    chengguan, donghe = towns["chengguan"], towns["donghe"]
    assert (chengguan.matters_in_force, chengguan.pending_applications) == (1, 1)
    assert [(d.department.code, d.matters) for d in chengguan.by_department] == [("nongye", 1)]
    # The matter's 60,000 yuan and 2 staff are split between its two townships, not counted
    # once for each: 城关 has its half in hand, 东河 is owed its half.
    assert (chengguan.funding_promised_yuan, chengguan.funding_received_yuan) == (30000, 30000)
    assert chengguan.overdue_steps == 1
    assert (donghe.funding_promised_yuan, donghe.funding_received_yuan) == (30000, 0)
    assert (donghe.staff_promised, donghe.staff_received) == (1, 0)
    assert (donghe.matters_resources_received, donghe.matters_resources_missing) == (0, 1)
    assert (donghe.open_shortfalls, donghe.overdue_shortfalls) == (1, 0)
    assert (chengguan.open_shortfalls, chengguan.overdue_shortfalls) == (0, 0)
    assert sum(t.funding_promised_yuan for t in report.townships) == 60000
    assert (donghe.pending_applications, donghe.overdue_steps) == (0, 0)
    assert towns["xishan"].pending_applications == 1
    assert towns["beiling"].matters_in_force == 0


def test_department_rows_count_filings_outcomes_and_reasons(ctx: Context, county) -> None:
    report = burden.report(ctx, actor(ctx, "bianban"))
    depts = rows_by_code(report.departments, "department")
    nongye, jiaoyu, minzheng = depts["nongye"], depts["jiaoyu"], depts["minzheng"]
    assert (nongye.filed, nongye.pending, nongye.admitted, nongye.in_force) == (2, 1, 1, 1)
    assert (jiaoyu.filed, jiaoyu.pending, jiaoyu.rejected, jiaoyu.returned) == (2, 1, 1, 1)
    assert jiaoyu.rejection_reasons == {"duplicates_list_item": 1, "no_resources": 1}
    assert (minzheng.filed, minzheng.admitted, minzheng.exited) == (1, 1, 1)


def test_report_is_scoped_like_every_read(ctx: Context, county) -> None:
    own = burden.report(ctx, actor(ctx, "donghe"))
    assert [t.township.code for t in own.townships] == ["donghe"] and own.departments == []
    dept = burden.report(ctx, actor(ctx, "jiaoyu"))
    assert [d.department.code for d in dept.departments] == ["jiaoyu"] and dept.townships == []
    nothing = burden.report(ctx, actor(ctx, "admin"))
    assert nothing.townships == [] and nothing.departments == []


def test_csv_holds_both_tables(ctx: Context, county) -> None:
    text = burden.to_csv(burden.report(ctx, actor(ctx, "jiwei"))).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    townships, departments = rows[:blank], rows[blank + 1 :]
    assert townships[0][:4] == ["乡镇代码", "乡镇", "所属县（市、区）", "在用准入事项"]
    chengguan = next(r for r in townships if r[0] == "chengguan")
    assert chengguan[2:5] == ["清河县", "1", "县农业农村局 1"]
    jiaoyu = next(r for r in departments if r[0] == "jiaoyu")
    reasons = departments[0].index("不予准入理由")
    assert jiaoyu[reasons] == "与清单内事项重复 1；未随事下放经费、人员或权限 1"  # words, no codes


def test_a_separate_assessment_of_an_admitted_matter_is_flagged_and_counted(
    ctx: Context, county
) -> None:
    """郑州二七区: after admission a department may not assess, inspect or rank townships on
    the matter separately; a filing that reads so is flagged and counted against it."""
    ranking = application(name="高标准农田建设项目日常巡查考核排名", content="按月考核排名")
    filed = instances.start(ctx, "matter_admission", ranking, actor(ctx, "nongye"))
    flags = [f for f in filed.data["precheck"]["findings"] if f["kind"] == "assessment_of_admitted"]
    assert flags and "不得就该事项对乡镇另行" in flags[0]["message"]
    depts = rows_by_code(burden.report(ctx, actor(ctx, "bianban")).departments, "department")
    assert depts["nongye"].separate_assessments == 1
    assert depts["jiaoyu"].separate_assessments == 0


def test_meetings_are_counted_beside_the_matters(ctx: Context, county) -> None:
    """The burden picture holds the meeting gate too: per township the meetings it must attend
    this year in person and by video, per department those it called, from the rows."""
    from tests.api.test_meetings_api import meeting

    today = ctx.calendar.local(ctx.clock.now()).date()
    day = today + timedelta(days=1)  # filed ahead; next year's on 31 December, not counted
    for body, decision in (
        (meeting(day, townships=["chengguan", "donghe"]), "approve"),
        (meeting(day, name="视频调度会", townships=["chengguan"]), "approve_video"),
        (meeting(day, name="被否决的会", townships=["chengguan"]), "refuse"),
    ):
        started = instances.start(ctx, "meeting_admission", body, actor(ctx, "nongye"))
        form = {"decision": decision, "comment": "可合并" if decision == "refuse" else ""}
        step(ctx, "xianwei", started.id, form)
    counted = 1 if day.year == today.year else 0
    report = burden.report(ctx, actor(ctx, "xianwei"))
    assert (report.period_start, report.period_end) == (
        today.replace(month=1, day=1),
        today.replace(month=12, day=31),
    )
    towns = rows_by_code(report.townships, "township")
    assert (towns["chengguan"].meetings_in_person, towns["chengguan"].meetings_video) == (
        counted,
        counted,
    )
    assert (towns["donghe"].meetings_in_person, towns["donghe"].meetings_video) == (counted, 0)
    assert towns["xishan"].meetings_in_person == 0
    departments = rows_by_code(report.departments, "department")
    # The refused one is on no calendar; meetings are not matter applications.
    assert departments["nongye"].meetings_called == 2 * counted
    assert departments["nongye"].filed == 2
    text = burden.to_csv(report).decode("utf-8-sig")
    assert "本年须现场参加的县级会议" in text and "本年召集乡镇参加的会议" in text


def test_inspections_are_counted_beside_the_matters(ctx: Context, county) -> None:
    """The burden picture holds the inspection gate: per township the visits approved on it
    this year and those announced; per department its inspections planned (and outside the
    annual plan) and those the county did not let run, from the rows."""
    from engine.burden.services import inspections
    from tests.api.test_inspections_api import inspection

    today = ctx.calendar.local(ctx.clock.now()).date()
    nongye = actor(ctx, "nongye")
    planned = []
    for body, review in (
        (inspection(year=today.year, townships=["chengguan", "donghe"], times=3), None),
        (inspection(year=today.year, name="防汛检查", townships=["chengguan"], months=[]), 1),
        (
            inspection(year=today.year, name="汛后复查", out_of_plan=True, urgency="灾后复查"),
            None,
        ),
        (inspection(year=today.year + 1, name="明年的检查", townships=["chengguan"]), None),
        (inspection(year=today.year, name="被否决的检查", townships=["chengguan"]), "refuse"),
        (inspection(year=today.year, name="被合并的检查", townships=["donghe"]), "merge"),
    ):
        started = instances.start(ctx, "inspection_admission", body, nongye)
        if review in ("refuse", "merge"):
            form = {"decision": review, "comment": "并入县安委会综合检查"}
        elif review:
            form = {"decision": "limit", "times": review}
        else:
            form = {"decision": "approve"}
        step(ctx, "xianwei", started.id, form)
        planned.append(started.id)
    visits = 0
    if today.month != 12 or today.day != 31:  # a visit is announced for a later day this year
        [first] = [
            i for i in inspections.plans(ctx, actor(ctx, "chengguan")) if i.name == "防汛检查"
        ]
        inspections.announce_visit(ctx, nongye, first.id, today + timedelta(days=1))
        visits = 1
    report = burden.report(ctx, actor(ctx, "xianwei"))
    towns = rows_by_code(report.townships, "township")
    # 城关镇: 3 (the first) + 1 (limited) + 2 (the out-of-plan one, both townships); next
    # year's is not this year's burden.
    assert (towns["chengguan"].inspection_times, towns["chengguan"].inspection_visits) == (
        6,
        visits,
    )
    assert (towns["donghe"].inspection_times, towns["donghe"].inspection_visits) == (5, 0)
    assert towns["xishan"].inspection_times == 0
    departments = rows_by_code(report.departments, "department")
    nongye_row = departments["nongye"]
    assert (nongye_row.inspections_planned, nongye_row.inspections_out_of_plan) == (3, 1)
    assert nongye_row.inspections_not_run == 2
    # Inspection filings are not matter applications.
    assert nongye_row.filed == 2
    text = burden.to_csv(report).decode("utf-8-sig")
    assert "本年批准的检查次数" in text and "本年列入计划的检查" in text
    # A township reads only its own row.
    [own] = burden.report(ctx, actor(ctx, "donghe")).townships
    assert own.inspection_times == 5


def test_needs_are_counted_for_townships_and_the_departments_that_answer(
    ctx: Context, county
) -> None:
    """吹哨报到 in the burden picture, from the rows: per township the needs it raised this
    year, answered, late and rated unsatisfied; per department those it led. A township's
    need is no department's filing and no pending application of the township."""
    from tests.api.test_needs_api import ROUTE, need

    before = rows_by_code(burden.report(ctx, actor(ctx, "xianwei")).townships, "township")
    chengguan = actor(ctx, "chengguan")
    ids = [
        instances.start(ctx, "township_need", need(name=f"需求{n}"), chengguan).id for n in range(4)
    ]
    for instance_id in ids[:3]:
        step(ctx, "shegong", instance_id, ROUTE)
    step(ctx, "shegong", ids[3], {"grade": "township", "comment": "乡镇自行办理"})
    step(ctx, "nongye", ids[0], {"outcome": "solved", "answer": "已修复"})
    step(ctx, "chengguan", ids[0], {"rating": "satisfied"})
    step(ctx, "nongye", ids[1], {"outcome": "cannot", "answer": "无资金"})
    step(ctx, "chengguan", ids[1], {"rating": "unsatisfied", "comment": "推诿"})
    ctx.clock.advance(timedelta(days=20))  # the third, unanswered, is now past its limit
    report = burden.report(ctx, actor(ctx, "xianwei"))
    towns = rows_by_code(report.townships, "township")
    row = towns["chengguan"]
    assert (row.needs_raised, row.needs_answered, row.needs_late, row.needs_unsatisfied) == (
        4,
        2,
        1,
        1,
    )
    assert row.pending_applications == before["chengguan"].pending_applications
    departments = rows_by_code(report.departments, "department")
    nongye = departments["nongye"]
    assert (nongye.needs_led, nongye.needs_answered, nongye.needs_late) == (3, 2, 1)
    assert nongye.needs_unsatisfied == 1 and nongye.filed == 2
    assert "chengguan" not in departments  # a township that raised needs is no department
    assert departments.get("minzheng") is None or departments["minzheng"].needs_led == 0
    text = burden.to_csv(report).decode("utf-8-sig")
    assert "本年吹哨" in text and "本年牵头办理的吹哨" in text


def test_report_forms_are_counted_for_the_townships_that_fill_them(ctx: Context, county) -> None:
    """报表 in the burden picture, from the rows: per township the catalogue's forms it fills
    and their fields; per department the forms it owns (a merged request owns none)."""
    from tests.api.test_report_forms_api import report

    def through(username: str, body: dict[str, Any], decision: dict[str, Any]) -> None:
        started = instances.start(ctx, "report_form", body, actor(ctx, username))
        step(ctx, "bianban", started.id, decision)

    through("minzheng", report(), {"decision": "approve"})
    through(
        "jiaoyu",
        report(name="学生资助表", fields=["资助人数"], townships=["chengguan"]),
        {"decision": "approve"},
    )
    with ctx.db.read() as session:
        from engine.burden.models_burden import ReportForm

        first = session.scalar(select(ReportForm.id).order_by(ReportForm.id))
    merged = report(
        name="低保监测", fields=["农村低保户数", "防返贫监测户数"], townships=["xishan"]
    )
    through("nongye", merged, {"decision": "merge", "merge_into": first})
    report_rows = burden.report(ctx, actor(ctx, "xianwei"))
    towns = rows_by_code(report_rows.townships, "township")
    # 城关镇: the first form (3 fields + 1 merged in) and 学生资助表 (1).
    assert (towns["chengguan"].report_forms, towns["chengguan"].report_fields) == (2, 5)
    assert (towns["donghe"].report_forms, towns["donghe"].report_fields) == (1, 4)
    assert (towns["xishan"].report_forms, towns["xishan"].report_fields) == (1, 4)
    assert towns["nanhu"].report_forms == 0
    departments = rows_by_code(report_rows.departments, "department")
    assert departments["minzheng"].report_forms == 1 and departments["jiaoyu"].report_forms == 1
    assert departments["nongye"].report_forms == 0 and departments["nongye"].filed == 2


def test_the_workbook_holds_the_lists_behind_the_numbers(ctx: Context, county) -> None:
    """The Excel workbook: the townships' and departments' numbers, then one sheet per gate
    with the rows they count, for the year asked and the townships the reader may see."""
    import io

    from openpyxl import load_workbook

    from tests.api.test_inspections_api import inspection
    from tests.api.test_needs_api import ROUTE, need

    today = ctx.calendar.local(ctx.clock.now()).date()
    started = instances.start(
        ctx, "inspection_admission", inspection(year=today.year), actor(ctx, "nongye")
    )
    step(ctx, "xianwei", started.id, {"decision": "approve"})
    raised = instances.start(ctx, "township_need", need(), actor(ctx, "chengguan"))
    step(ctx, "shegong", raised.id, ROUTE)
    report = burden.report(ctx, actor(ctx, "xianwei"), year=today.year, details=True)
    book = load_workbook(io.BytesIO(burden.to_xlsx(report)))
    assert book.sheetnames == ["乡镇", "部门", "会议", "督查检查考核", "吹哨", "报表"]
    towns = {row[1]: row for row in book["乡镇"].iter_rows(min_row=2, values_only=True)}
    assert towns["城关镇"][burden.TOWNSHIP_HEADER.index("本年批准的检查次数")] == 2
    checks = list(book["督查检查考核"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in checks) == ["东河乡", "城关镇"]
    assert checks[0][1] == "县农业农村局" and checks[0][5] == 2
    [whistle] = list(book["吹哨"].iter_rows(min_row=2, values_only=True))
    assert whistle[0] == "城关镇" and whistle[4] == "县农业农村局" and whistle[6] == "否"
    # A township's workbook lists only its own rows; last year's holds none of this year's.
    own = burden.report(ctx, actor(ctx, "donghe"), year=today.year, details=True)
    assert [r["township"] for r in own.details[1][1]] == ["东河乡"]
    assert (
        burden.report(ctx, actor(ctx, "xianwei"), year=today.year - 1).townships[0].inspection_times
        == 0
    )
