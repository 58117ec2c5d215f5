"""A city with two counties in one deployment: each county's matters, steps, townships and
numbers are its own, and the city's office reads every county's burden picture and no matter.

The burden numbers are checked against the rows they count, county by county and for the city.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.accountability.services import cases
from engine.admission.services import burden
from engine.authz import Actor
from engine.burden.models_burden import ReportForm, RequiredMeeting
from engine.demo_city import load_demo_city
from engine.duty_lists.services import catalog
from engine.duty_lists.services.catalog import ItemFilter
from engine.errors import InvalidInput, NotFound
from engine.models import Deployment, Instance, InstanceTownship, Matter, Organization
from engine.services import accounts, organizations
from engine.services.context import Context
from engine.workflow.services import instances, interventions, migration, stranded, tasks
from engine.workflow.services.instances import InstanceFilter
from tests.conftest import DEMO_PASSWORD
from tests.factories import APPROVE, CONFIRM, LAWFUL, PASS, application

# Who judges an application in each county: (legal review, review, approval).
JUDGES = {
    "county": ("sifa", "bianban", "xianwei"),
    "qingyuan": ("qy_sifa", "qy_bianban", "qy_xianwei"),
}


def who(ctx: Context, username: str) -> Actor:
    return accounts.actor_of(ctx, username)


def take(ctx: Context, username: str, instance_id: int, form: dict[str, Any]) -> None:
    actor = who(ctx, username)
    [task] = [t for t in tasks.inbox(ctx, actor, per_page=100) if t.instance_id == instance_id]
    tasks.complete(ctx, task.id, form, actor)


def file(ctx: Context, username: str, **values: Any) -> int:
    return instances.start(ctx, "matter_admission", application(**values), who(ctx, username)).id


def admit(ctx: Context, county: str, instance_id: int, townships: list[str]) -> None:
    sifa, bianban, xianwei = JUDGES[county]
    take(ctx, sifa, instance_id, LAWFUL)
    take(ctx, bianban, instance_id, PASS)
    take(ctx, xianwei, instance_id, APPROVE)
    for township in townships:
        take(ctx, township, instance_id, CONFIRM)


def meeting(ctx: Context, filer: str, decider: str, townships: list[str], days: int) -> int:
    form = {
        "name": "防汛工作部署会",
        "held_on": (ctx.clock.now().date() + timedelta(days=days)).isoformat(),
        "starts_at": "09:00",
        "hours": 1.5,
        "location": "县政府三楼第一会议室",
        "video_possible": False,
        "townships": townships,
        "attendees": "分管负责同志",
        "reason": "部署全年防汛工作",
    }
    started = instances.start(ctx, "meeting_admission", form, who(ctx, filer))
    take(ctx, decider, started.id, {"decision": "approve"})
    return started.id


def need(ctx: Context, township: str, coordinator: str, lead: str) -> int:
    form = {
        "name": "村道护栏损毁",
        "content": "通村公路护栏被撞毁，镇里无修复资金和资质",
        "location": "村口桥",
        "category": "safety",
        "urgency": "urgent",
    }
    started = instances.start(ctx, "township_need", form, who(ctx, township))
    grade = {"grade": "county", "lead": lead, "supporting": [], "days": 5}
    take(ctx, coordinator, started.id, grade)
    return started.id


def inspection(ctx: Context, filer: str, decider: str, townships: list[str]) -> int:
    form = {
        "year": ctx.calendar.local(ctx.clock.now()).year,
        "kind": "inspection",
        "method": "on_site",
        "name": "农业生产安全检查",
        "content": "检查农机、农药使用和农业生产设施安全",
        "basis": "《中华人民共和国安全生产法》第九条",
        "townships": townships,
        "times": 2,
    }
    started = instances.start(ctx, "inspection_admission", form, who(ctx, filer))
    take(ctx, decider, started.id, {"decision": "approve", "comment": "同意"})
    return started.id


@pytest.fixture
def city(ctx: Context) -> dict[str, int]:
    """清河县 (code `county`) and 清源县 under 清江市, each with matters in force, one pending
    and an approved meeting."""
    load_demo_city(ctx, DEMO_PASSWORD)
    ids = {"a_admitted": file(ctx, "nongye")}
    admit(ctx, "county", ids["a_admitted"], ["chengguan", "donghe"])
    ids["a_pending"] = file(ctx, "jiaoyu", name="学生资助信息核查", townships=["donghe"])
    ids["b_admitted"] = file(ctx, "qy_nongye", townships=["qy_chengguan", "qy_hekou"])
    admit(ctx, "qingyuan", ids["b_admitted"], ["qy_chengguan", "qy_hekou"])
    ids["b_pending"] = file(ctx, "qy_nongye", name="秸秆禁烧巡查", townships=["qy_baishi"])
    ids["a_meeting"] = meeting(ctx, "nongye", "xianwei", ["chengguan", "xishan"], 5)
    ids["b_meeting"] = meeting(ctx, "qy_nongye", "qy_xianwei", ["qy_chengguan"], 6)
    ids["a_need"] = need(ctx, "chengguan", "shegong", "nongye")
    ids["b_need"] = need(ctx, "qy_hekou", "qy_shegong", "qy_nongye")
    ids["b_inspection"] = inspection(ctx, "qy_nongye", "qy_xianwei", ["qy_hekou", "qy_baishi"])
    return ids


def test_each_county_reads_and_takes_only_its_own(ctx: Context, city: dict[str, int]) -> None:
    b_reviewer = who(ctx, "qy_bianban")
    inbox = tasks.inbox(ctx, b_reviewer, per_page=100)
    assert {t.instance_id for t in inbox} <= {city["b_pending"]}
    found = instances.search(ctx, b_reviewer, InstanceFilter(per_page=100))
    assert {i.id for i in found.items} == {i for k, i in city.items() if k.startswith("b_")}
    with pytest.raises(NotFound):
        instances.get(ctx, city["a_pending"], b_reviewer)
    # Another county's task cannot be taken even by id: it is as if it did not exist.
    a_sifa = who(ctx, "sifa")
    [a_task] = [
        t for t in tasks.inbox(ctx, a_sifa, per_page=100) if t.instance_id == city["a_pending"]
    ]
    with pytest.raises(NotFound):
        tasks.complete(ctx, a_task.id, LAWFUL, who(ctx, "qy_sifa"))
    assert instances.get(ctx, city["a_pending"], a_sifa).status == "pending"
    # And the first county's offices see none of the second's.
    a_found = instances.search(ctx, who(ctx, "bianban"), InstanceFilter(per_page=100))
    assert not {i.id for i in a_found.items} & {city["b_admitted"], city["b_pending"]}


def test_a_county_files_only_to_its_own_townships(ctx: Context, city: dict[str, int]) -> None:
    with ctx.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Instance))
    with pytest.raises(InvalidInput) as refused:
        file(ctx, "qy_nongye", townships=["qy_hekou", "chengguan"])
    assert "未知乡镇：chengguan" in refused.value.errors["townships"][0]
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == before


def test_each_county_numbers_its_own(ctx: Context, city: dict[str, int]) -> None:
    number = {
        key: instances.get(ctx, i, who(ctx, "xianwei" if key[0] == "a" else "qy_xianwei")).number
        for key, i in city.items()
        if key.endswith(("_admitted", "_pending"))
    }
    year = ctx.calendar.local(ctx.clock.now()).year
    assert number["a_admitted"] == number["b_admitted"] == f"准〔{year}〕1号"
    assert number["a_pending"] == number["b_pending"] == f"准〔{year}〕2号"


def test_the_city_office_reads_no_matter(ctx: Context, city: dict[str, int]) -> None:
    office = who(ctx, "shi_bianban")
    assert office.county_id is None and office.city_id is not None
    assert tasks.inbox(ctx, office) == []
    assert instances.search(ctx, office, InstanceFilter(per_page=100)).items == []
    for instance_id in city.values():
        with pytest.raises(NotFound):
            instances.get(ctx, instance_id, office)


def _recorded(ctx: Context, township_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """What the database holds per township: matters in force, pending applications addressed
    to it, meetings it must attend."""
    with ctx.db.read() as session:
        in_force = dict(
            session.execute(
                select(Matter.township_org_id, func.count())
                .where(Matter.status == "in_force", Matter.township_org_id.in_(township_ids))
                .group_by(Matter.township_org_id)
            ).all()
        )
        pending = dict(
            session.execute(
                select(InstanceTownship.org_id, func.count())
                .join(Instance, Instance.id == InstanceTownship.instance_id)
                .where(
                    Instance.status == "pending",
                    Instance.process_id == "matter_admission",
                    InstanceTownship.org_id.in_(township_ids),
                )
                .group_by(InstanceTownship.org_id)
            ).all()
        )
        meetings = dict(
            session.execute(
                select(RequiredMeeting.township_org_id, func.count())
                .where(RequiredMeeting.township_org_id.in_(township_ids))
                .group_by(RequiredMeeting.township_org_id)
            ).all()
        )
    return {t: (in_force.get(t, 0), pending.get(t, 0), meetings.get(t, 0)) for t in township_ids}


def _townships_of(ctx: Context, county_code: str) -> dict[str, int]:
    with ctx.db.read() as session:
        county = session.scalar(select(Organization.id).where(Organization.code == county_code))
        rows = session.execute(
            select(Organization.code, Organization.id).where(
                Organization.level == "township", Organization.county_id == county
            )
        )
        return dict(rows.all())


def _numbers(report: burden.BurdenReport) -> dict[str, tuple[int, int, int]]:
    return {
        t.township.code: (t.matters_in_force, t.pending_applications, t.meetings_in_person)
        for t in report.townships
    }


def test_burden_numbers_per_county_and_for_the_city(ctx: Context, city: dict[str, int]) -> None:
    expected: dict[str, dict[str, tuple[int, int, int]]] = {}
    for county in ("county", "qingyuan"):
        codes = _townships_of(ctx, county)
        recorded = _recorded(ctx, list(codes.values()))
        expected[county] = {code: recorded[org_id] for code, org_id in codes.items()}
    # The records are what the fixture made: each county's own, nothing across.
    assert expected["county"]["chengguan"] == (1, 0, 1)
    assert expected["county"]["donghe"] == (1, 1, 0)
    assert expected["qingyuan"]["qy_chengguan"] == (1, 0, 1)
    assert expected["qingyuan"]["qy_baishi"] == (0, 1, 0)

    a_view = burden.report(ctx, who(ctx, "bianban"))
    b_view = burden.report(ctx, who(ctx, "qy_bianban"))
    assert _numbers(a_view) == expected["county"]
    assert _numbers(b_view) == expected["qingyuan"]
    assert {d.department.code for d in b_view.departments} == {"qy_nongye"}
    assert "qy_nongye" not in {d.department.code for d in a_view.departments}

    office = who(ctx, "shi_bianban")
    whole = burden.report(ctx, office)
    assert _numbers(whole) == expected["county"] | expected["qingyuan"]
    counties = {t.township.code: t.county.name for t in whole.townships if t.county}
    assert counties["chengguan"] == "清河县" and counties["qy_chengguan"] == "清源县"
    filed = {d.department.code: d.filed for d in whole.departments}
    assert filed["nongye"] == 1 and filed["jiaoyu"] == 1 and filed["qy_nongye"] == 2

    # Every number of every row, each gate's too, is the county's own view of it.
    def rows(*views: burden.BurdenReport) -> dict[str, dict[str, Any]]:
        found = {t.township.code: asdict(t) for v in views for t in v.townships}
        return found | {d.department.code: asdict(d) for v in views for d in v.departments}

    assert rows(whole) == rows(a_view, b_view)
    b_rows = rows(b_view)
    assert b_rows["qy_hekou"]["needs_raised"] == 1 and b_rows["qy_hekou"]["inspection_times"] == 2
    assert b_rows["qy_nongye"]["needs_led"] == 1 and b_rows["qy_nongye"]["inspections_planned"] == 1
    assert rows(a_view)["chengguan"]["needs_raised"] == 1
    assert rows(a_view)["chengguan"]["inspection_times"] == 0

    one = burden.report(ctx, office, county="qingyuan")
    assert _numbers(one) == expected["qingyuan"]
    with pytest.raises(InvalidInput) as refused:
        burden.report(ctx, office, county="chengguan")
    assert "county" in refused.value.errors
    # A county office cannot widen its view with the city's filter.
    with pytest.raises(InvalidInput):
        burden.report(ctx, who(ctx, "bianban"), county="qingyuan")


def test_an_organisation_never_moves_to_another_county(ctx: Context, city: dict[str, int]) -> None:
    # Not even by the city's administrators, who keep both counties.
    admin = who(ctx, "shi_shuju")
    with pytest.raises(InvalidInput) as refused:
        organizations.update_organization(ctx, admin, "qy_hekou", {"parent": "county"})
    assert "本县" in refused.value.errors["parent"][0]
    with ctx.db.read() as session:
        hekou = session.scalar(select(Organization).where(Organization.code == "qy_hekou"))
        county = session.scalar(select(Organization.id).where(Organization.code == "qingyuan"))
        assert hekou is not None and hekou.parent_id == county and hekou.county_id == county
    # A county's administrators do not even see the other county's organisations.
    with pytest.raises(NotFound):
        organizations.update_organization(ctx, who(ctx, "admin"), "qy_hekou", {"name": "河口"})


def test_a_case_is_opened_only_on_the_county_s_own_people(
    ctx: Context, city: dict[str, int]
) -> None:
    body = {
        "subject_kind": "person",
        "subject_username": "zhangming",
        "matter_reported": "被举报在项目验收中弄虚作假",
        "source": "report",
        "responsibility_level": "principal",
    }
    with pytest.raises(InvalidInput) as refused:
        cases.open_case(ctx, body, who(ctx, "qy_jiwei"))
    assert refused.value.errors["subject_username"] == ["未找到该账号"]  # as if nobody
    # The first county's cases are not the second's to read.
    assert cases.list_cases(ctx, who(ctx, "qy_jiwei")).items == []
    assert cases.list_cases(ctx, who(ctx, "jiwei")).total >= 3


def test_a_need_goes_only_to_its_county_s_departments(ctx: Context, city: dict[str, int]) -> None:
    form = {
        "name": "河道清淤",
        "content": "汛前河道淤积严重，乡镇无清淤设备",
        "location": "河口镇",
        "category": "safety",
        "urgency": "normal",
    }
    raised = instances.start(ctx, "township_need", form, who(ctx, "qy_hekou"))
    coordinator = who(ctx, "qy_shegong")
    [task] = [t for t in tasks.inbox(ctx, coordinator) if t.instance_id == raised.id]
    grade = {"grade": "county", "lead": "nongye", "supporting": [], "days": 5}
    with pytest.raises(InvalidInput) as refused:
        tasks.complete(ctx, task.id, grade, coordinator)
    assert "lead" in refused.value.errors
    assert instances.get(ctx, raised.id, coordinator).status == "pending"
    # Each county's coordinating office finds its own townships' needs only.
    found = instances.search(ctx, coordinator, InstanceFilter(process_id="township_need"))
    assert {i.id for i in found.items} == {city["b_need"], raised.id}
    # Nor may a township suggest another county's department as the one that owes it.
    with pytest.raises(InvalidInput):
        instances.start(
            ctx, "township_need", {**form, "department_hint": "nongye"}, who(ctx, "qy_hekou")
        )


def test_a_county_s_administrators_run_only_its_instances_and_lists(
    ctx: Context, city: dict[str, int]
) -> None:
    county_admin, city_admin = who(ctx, "admin"), who(ctx, "shi_shuju")
    reason = {"reason": "核查"}
    with pytest.raises(NotFound):
        interventions.suspend(ctx, city["b_pending"], reason, county_admin)
    with pytest.raises(NotFound):
        interventions.terminate(ctx, city["b_pending"], reason, county_admin)
    assert instances.get(ctx, city["b_pending"], who(ctx, "qy_bianban")).status == "pending"
    # The city's administrators run the platform for every county.
    interventions.suspend(ctx, city["b_pending"], reason, city_admin)
    interventions.resume(ctx, city["b_pending"], reason, city_admin)
    with ctx.db.read() as session:
        version = session.scalar(
            select(Instance.deployment_id).where(Instance.id == city["b_pending"])
        )
        number = session.scalar(select(Deployment.version).where(Deployment.id == version))
    running = {r.id for r in migration.running_on(ctx, "matter_admission", number, county_admin)}
    assert city["a_pending"] in running and city["b_pending"] not in running
    assert {s.instance_id for s in stranded.find(ctx, county_admin)} <= {
        i for k, i in city.items() if k.startswith("a_")
    }
    # Another county's list items are as unknown as items nobody has.
    bianban, qy_bianban = who(ctx, "bianban"), who(ctx, "qy_bianban")
    item = catalog.list_items(ctx, bianban, ItemFilter(per_page=1)).items[0]
    with pytest.raises(NotFound):
        catalog.edit_item(ctx, qy_bianban, item.id, {"cooperating_department": "清源县民政局"})
    with pytest.raises(InvalidInput):
        catalog.create_item(
            ctx,
            qy_bianban,
            {
                "list_type": "assisting",
                "category": "民生服务",
                "name": "协助走访",
                "scope": "donghe",
            },
        )
    assert catalog.list_items(ctx, qy_bianban, ItemFilter(per_page=200)).items == []


def test_report_forms_are_compared_and_merged_within_the_county(
    ctx: Context, city: dict[str, int]
) -> None:
    def form(townships: list[str]) -> dict[str, Any]:
        return {
            "name": "农村低保和特困人员情况统计表",
            "purpose": "掌握农村低保和特困供养人员底数",
            "fields": ["农村低保户数", "农村低保人数", "特困供养人员数"],
            "frequency": "quarterly",
            "townships": townships,
            "basis": "《社会救助暂行办法》",
        }

    first = instances.start(ctx, "report_form", form(["chengguan"]), who(ctx, "minzheng"))
    take(ctx, "bianban", first.id, {"decision": "approve", "comment": ""})
    # The same form asked in the first county repeats the catalogue; in the second it does not.
    again = instances.start(ctx, "report_form", form(["donghe"]), who(ctx, "jiaoyu"))
    assert instances.get(ctx, again.id, who(ctx, "bianban")).data["findings"]
    other = instances.start(ctx, "report_form", form(["qy_hekou"]), who(ctx, "qy_nongye"))
    assert instances.get(ctx, other.id, who(ctx, "qy_bianban")).data["findings"] == []
    # Nor may the second county's office merge it into the first county's catalogue.
    with ctx.db.read() as session:
        catalogued = session.scalar(select(ReportForm.id).where(ReportForm.instance_id == first.id))
    with pytest.raises(InvalidInput) as refused:
        take(
            ctx,
            "qy_bianban",
            other.id,
            {"decision": "merge", "merge_into": catalogued, "comment": "并入"},
        )
    assert "merge_into" in refused.value.errors
