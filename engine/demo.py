"""The demo county: organisations, one user per organisation, and the deployed diagrams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.accountability.services import cases
from engine.burden.services import inspections
from engine.duty_lists.demo_catalog import load_demo_catalog
from engine.errors import InvalidInput
from engine.models import Organization
from engine.services.accounts import actor_of, add_organization, add_user
from engine.workflow.context import Context
from engine.workflow.services import instances, tasks
from engine.workflow.services.deployments import deploy_directory

COUNTY = ("county", "清河县")

# code (= username), name, level, roles
DEMO_ORGS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("xianwei", "县委县政府", "department", ("approver",)),
    ("bianban", "县委编办", "department", ("reviewer",)),
    ("sifa", "县司法局", "department", ("legal_reviewer",)),
    ("nongye", "县农业农村局", "department", ("applicant",)),
    ("jiaoyu", "县教育局", "department", ("applicant",)),
    ("minzheng", "县民政局", "department", ("applicant",)),
    ("jiwei", "县纪委监委", "department", ("auditor", "discipline")),
    ("zuzhibu", "县委组织部", "department", ("organization",)),
    ("shegong", "县委社会工作部", "department", ("social_work",)),
    ("admin", "县政务服务和大数据管理局", "department", ("admin",)),
    ("chengguan", "城关镇", "township", ("township",)),
    ("donghe", "东河乡", "township", ("township",)),
    ("xishan", "西山镇", "township", ("township",)),
    ("nanhu", "南湖街道", "township", ("township",)),
    ("beiling", "北岭乡", "township", ("township",)),
)


# People beyond one user per organisation: username, name, organisation code, roles.
DEMO_PEOPLE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("jiwei_shenli", "县纪委监委案件审理室", "jiwei", ("case_review",)),
    # A second reviewer: an appeal is decided by someone other than the first decider (回避).
    ("zhaomin", "赵敏（县纪委监委案件审理室副主任）", "jiwei", ("case_review",)),
    # Offices of several people: a clerk who prepares and the head who decides share the office's
    # inbox; whoever claims a task holds it. (No e-mail address: set one with `zhunru users email`.)
    ("nongye_liu", "刘洋（县农业农村局办公室科员）", "nongye", ("applicant",)),
    ("bianban_sun", "孙婷（县委编办机构编制股股长）", "bianban", ("reviewer",)),
    ("chengguan_zhou", "周丽（城关镇党政办科员）", "chengguan", ("township",)),
    ("zhangming", "张明（城关镇副镇长）", "chengguan", ("cadre",)),
    ("lihua", "李华（东河乡党委委员）", "donghe", ("cadre",)),
    ("wangfang", "王芳（西山镇农业服务中心主任）", "xishan", ("cadre",)),
)

_NO_MAIL = frozenset({"nongye_liu", "bianban_sun", "chengguan_zhou"})

# Accountability cases the demo opens, each ready for one procedure (docs/accountability.md).
DEMO_CASES: tuple[tuple[dict[str, object], dict[str, object] | None], ...] = (
    (
        {
            "subject_kind": "person",
            "subject_username": "zhangming",
            "subject_position": "城关镇副镇长",
            "matter_reported": (
                "推进农村人居环境整治试点时，未经招标先行采购垃圾分类设施，超出预算12万元"
            ),
            "source": "inspection",
            "responsibility_level": "leadership",
            "leadership_kind": "main",
        },
        None,  # open: a fault-tolerance application can be made
    ),
    (
        {
            "subject_kind": "person",
            "subject_username": "lihua",
            "subject_position": "东河乡党委委员",
            "matter_reported": "被举报在低保评审中优亲厚友",
            "source": "report",
            "responsibility_level": "principal",
        },
        {
            "finding": "untrue",
            "harm": True,
            "note": "经核查，低保评审程序合规，举报反映问题失实；举报在村内传播，影响其正常工作",
        },
    ),
    (
        {
            "subject_kind": "person",
            "subject_username": "wangfang",
            "subject_position": "西山镇农业服务中心主任",
            "matter_reported": "被举报在农资补贴发放中收受好处",
            "source": "report",
            "responsibility_level": "principal",
        },
        {
            "finding": "not_proven",
            "harm": True,
            "note": "未发现收受好处的证据，但相关人员未能联系核实，不能排除",
        },
    ),
)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    usernames: list[str]


# The demo's people have addresses in a domain reserved for examples (RFC 2606): with e-mail
# turned on, a test's SMTP server receives them; no real mailbox ever does.
DEMO_MAIL_DOMAIN = "zhunru.example"


def load_demo(ctx: Context, password: str) -> DemoResult:
    """Create the demo county once; running it again changes nothing."""
    if len(password) < 8:
        raise InvalidInput(
            "演示密码至少 8 个字符", {"ZHUNRU_DEMO_PASSWORD": ["请设置至少 8 个字符的演示密码"]}
        )
    deploy_directory(ctx, ctx.settings.bpmn_dir, activate=True)
    usernames = [code for code, *_ in DEMO_ORGS] + [name for name, *_ in DEMO_PEOPLE]
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if session.scalar(select(Organization).where(Organization.code == COUNTY[0])):
            return DemoResult(created=False, usernames=usernames)
        county = add_organization(session, COUNTY[0], COUNTY[1], "county", None)
        orgs = add_offices(session, county, DEMO_ORGS, password, now, mail=True)
        for username, name, org_code, roles in DEMO_PEOPLE:
            add_user(
                session,
                username=username,
                display_name=name,
                password=password,
                org=orgs[org_code],
                roles=list(roles),
                by=None,
                at=now,
                email="" if username in _NO_MAIL else f"{username}@{DEMO_MAIL_DOMAIN}",
            )
    load_demo_catalog(ctx)
    _open_demo_cases(ctx)
    return DemoResult(created=True, usernames=usernames)


def add_offices(
    session: Session,
    parent: Organization,
    rows: tuple[tuple[str, str, str, tuple[str, ...]], ...],
    password: str,
    now: datetime,
    mail: bool,
) -> dict[str, Organization]:
    """Each (code, name, level, roles) as an organisation under `parent` with one person,
    signing in with its code (and, with `mail`, an example address)."""
    orgs = {}
    for code, name, level, roles in rows:
        org = orgs[code] = add_organization(session, code, name, level, parent)
        add_user(
            session,
            username=code,
            display_name=f"{name}经办人",
            password=password,
            org=org,
            roles=list(roles),
            by=None,
            at=now,
            email=f"{code}@{DEMO_MAIL_DOMAIN}" if mail else "",
        )
    return orgs


def _open_demo_cases(ctx: Context) -> None:
    handler = actor_of(ctx, "jiwei")
    for case, finding in DEMO_CASES:
        opened = cases.open_case(ctx, dict(case), handler)
        if finding is not None:
            cases.record_finding(ctx, opened.id, dict(finding), handler)


# What the county's other burden gates hold in the demo: (filer, process, form, reviewer's
# decision). Meetings fall in the days after the demo is loaded, inspections in this year while
# a visit can still be announced in it (else next year), so the gates accept them any day and
# this year's picture is not empty.
def _demo_activity(
    today: date, year: int, visit: date
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    every = ["chengguan", "donghe", "xishan", "nanhu", "beiling"]

    def meeting(days: int, **values: Any) -> dict[str, Any]:
        return {
            "held_on": (today + timedelta(days=days)).isoformat(),
            "starts_at": "09:00",
            "hours": 1.5,
            "location": "县政府三楼第一会议室",
            "video_possible": True,
            **values,
        }

    def inspection(**values: Any) -> dict[str, Any]:
        return {"year": year, "kind": "inspection", "method": "on_site", **values}

    return [
        (
            "nongye",
            "meeting_admission",
            meeting(
                10,
                name="全县高标准农田建设推进会",
                townships=every,
                attendees="分管副乡镇长1名、农业服务中心主任1名",
                reason="部署明年高标准农田建设任务，须乡镇分管负责同志当面领任务",
            ),
            {"decision": "approve", "comment": "同意，会议控制在1.5小时以内"},
        ),
        (
            "jiaoyu",
            "meeting_admission",
            meeting(
                18,
                name="全县校园安全工作调度会",
                townships=["chengguan", "nanhu"],
                attendees="分管副镇长1名",
                reason="通报校园周边安全隐患排查情况",
            ),
            {"decision": "approve_video", "comment": "改为视频会议，乡镇在本地分会场参加"},
        ),
        (
            "minzheng",
            "meeting_admission",
            meeting(
                22,
                name="养老服务工作座谈会",
                townships=["donghe"],
                attendees="民政助理员1名",
                reason="听取乡镇养老服务意见",
            ),
            {"decision": "refuse", "comment": "可书面征求意见，不必召开"},
        ),
        (
            "nongye",
            "inspection_admission",
            inspection(
                name="农业生产安全检查",
                content="检查农机、农药使用和农业生产设施安全",
                basis="《中华人民共和国安全生产法》第九条",
                townships=every,
                times=2,
                months=sorted({4, 10, visit.month}),
            ),
            {"decision": "approve", "comment": "同意，结合春耕、秋收开展"},
        ),
        (
            "minzheng",
            "inspection_admission",
            inspection(
                name="养老服务机构安全检查",
                content="检查乡镇敬老院消防、食品安全",
                basis="《养老机构管理办法》第四十二条",
                townships=["chengguan", "nanhu"],
                times=4,
                months=[3, 6, 9, 12],
                method="materials",
            ),
            {"decision": "limit", "times": 2, "comment": "每半年一次即可"},
        ),
        (
            "jiaoyu",
            "inspection_admission",
            inspection(
                kind="supervision",
                name="校园周边环境整治督查",
                content="督查校园周边交通、摊点整治",
                basis="县政府办公室关于校园周边环境整治的通知",
                townships=["chengguan", "xishan"],
                times=3,
            ),
            {"decision": "merge", "comment": "并入县教育局校园安全综合检查，不单独开展"},
        ),
    ]


# Townships' needs (吹哨报到): (township, need, the steps after it, each by whom).
DEMO_NEEDS: tuple[tuple[str, dict[str, Any], tuple[tuple[str, dict[str, Any]], ...]], ...] = (
    (
        "chengguan",
        {
            "name": "柳河村桥梁护栏损毁",
            "content": "通村公路桥梁护栏被货车撞毁约20米，村民通行有坠河风险，镇里无修复资金和资质",
            "location": "城关镇柳河村村口桥",
            "category": "safety",
            "department_hint": "nongye",
            "urgency": "urgent",
        },
        (
            (
                "shegong",
                {"grade": "county", "lead": "nongye", "supporting": ["minzheng"], "days": 5},
            ),
            (
                "nongye",
                {"outcome": "solved", "answer": "已安排农村公路养护站修复护栏并设置警示标志"},
            ),
            ("chengguan", {"rating": "satisfied"}),
        ),
    ),
    (
        "donghe",
        {
            "name": "东河乡敬老院供暖设施老化",
            "content": "敬老院锅炉使用超过十五年，入冬后多次停暖，乡里无专项资金更换",
            "location": "东河乡敬老院",
            "category": "livelihood",
            "urgency": "urgent",
        },
        (("shegong", {"grade": "county", "lead": "minzheng", "supporting": [], "days": 10}),),
    ),
    (
        "xishan",
        {
            "name": "集镇区违章搭建执法",
            "content": "集镇主街沿街商户违章搭建雨棚，乡镇无执法权，需综合执法部门处理",
            "location": "西山镇集镇主街",
            "category": "enforcement",
            "urgency": "normal",
        },
        (),  # waiting for 县委社会工作部 to grade it
    ),
)


def _scores(overall: str, **others: str) -> dict[str, str]:
    dims = ("responsiveness", "burden", "resources", "service")
    return {**dict.fromkeys(dims, overall), **others, "overall": overall}


# Townships' ratings of departments this year (考核评价权): (township, department, scores).
DEMO_RATINGS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("chengguan", "nongye", _scores("excellent", resources="good")),
    ("donghe", "nongye", _scores("good")),
    ("xishan", "nongye", _scores("good", burden="fair")),
    ("chengguan", "jiaoyu", _scores("fair")),
    (
        "nanhu",
        "jiaoyu",
        {**_scores("poor"), "comment": "多次未经准入要求街道填报校园周边排查表"},
    ),
)


# Report forms (报表): (department, request, 编办's decision or None while it waits). The
# second asks for nearly what the first collects: its review shows which fields repeat.
DEMO_REPORT_FORMS: tuple[tuple[str, dict[str, Any], dict[str, Any] | None], ...] = (
    (
        "minzheng",
        {
            "name": "农村低保和特困人员情况统计表",
            "purpose": "掌握农村低保和特困供养人员底数",
            "fields": ["农村低保户数", "农村低保人数", "特困供养人员数"],
            "frequency": "quarterly",
            "townships": ["chengguan", "donghe", "xishan", "nanhu", "beiling"],
            "basis": "《社会救助暂行办法》",
        },
        {"decision": "approve", "comment": ""},
    ),
    (
        "nongye",
        {
            "name": "脱贫人口和低保对象监测表",
            "purpose": "防返贫动态监测",
            "fields": ["农村低保户数", "农村低保对象人数", "防返贫监测户数"],
            "frequency": "monthly",
            "townships": ["chengguan", "donghe"],
            "basis": "防止返贫动态监测和帮扶机制",
        },
        None,
    ),
)


def load_demo_activity(ctx: Context) -> int:
    """The demo county's meetings, inspections, townships' needs, ratings of departments and
    report forms through their gates (filed, decided, told), and one inspection visit
    announced: what `zhunru load-demo` adds for people trying the console."""
    now = ctx.calendar.local(ctx.clock.now()).date()
    visit = now + timedelta(days=10)
    year = now.year if visit.year == now.year else now.year + 1
    if year != now.year:
        visit = date(year, 4, 15)
    reviewer = actor_of(ctx, "xianwei")
    done = 0
    for filer, process_id, form, decision in _demo_activity(now, year, visit):
        started = instances.start(ctx, process_id, form, actor_of(ctx, filer))
        [task] = [
            t for t in tasks.inbox(ctx, reviewer, per_page=100) if t.instance_id == started.id
        ]
        tasks.complete(ctx, task.id, decision, reviewer)
        done += 1
    for filer, form, steps in DEMO_NEEDS:
        started = instances.start(ctx, "township_need", form, actor_of(ctx, filer))
        for username, values in steps:
            who = actor_of(ctx, username)
            [task] = [t for t in tasks.inbox(ctx, who, per_page=100) if t.instance_id == started.id]
            tasks.complete(ctx, task.id, values, who)
        done += 1
    for township, department, scores in DEMO_RATINGS:
        form = {"year": now.year, "department": department, **scores}
        instances.start(ctx, "department_rating", form, actor_of(ctx, township))
        done += 1
    for filer, form, decision in DEMO_REPORT_FORMS:
        started = instances.start(ctx, "report_form", form, actor_of(ctx, filer))
        if decision is not None:
            bianban = actor_of(ctx, "bianban")
            [task] = [
                t for t in tasks.inbox(ctx, bianban, per_page=100) if t.instance_id == started.id
            ]
            tasks.complete(ctx, task.id, decision, bianban)
        done += 1
    nongye = actor_of(ctx, "nongye")
    [first] = [i for i in inspections.plans(ctx, nongye, year=year) if i.township == "chengguan"]
    inspections.announce_visit(ctx, nongye, first.id, visit, "农机安全")
    return done
