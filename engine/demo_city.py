"""The demo city: 清江市 above the demo county, a second county beside it, and the city's office.

One deployment serves a city and its counties (市、县两级): each county's people, matters,
lists and numbers are its own, and the city's office reads every county's burden picture. The
second county is small (its offices, one department that files, three townships — one named
城关镇 like the first county's) so the two pictures can be told apart and compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.demo import add_offices
from engine.models import Organization
from engine.services.accounts import actor_of, add_organization
from engine.services.organizations import change_organization
from engine.workflow.context import Context
from engine.workflow.services import instances, tasks

CITY = ("qingjiang", "清江市")
SECOND_COUNTY = ("qingyuan", "清源县")
FIRST_COUNTY_CODE = "county"  # engine.demo.COUNTY

# The city's own offices: 市委编办 reads every county's burden and takes no county's steps; the
# city's administrators keep every county's organisations and people (a county's, its own).
CITY_ORGS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("shi_bianban", "市委编办", "department", ("reviewer",)),
    ("shi_shuju", "市政务服务和数据管理局", "department", ("admin",)),
)
# The second county: code (= username), name, level, roles.
SECOND_COUNTY_ORGS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("qy_xianwei", "清源县委县政府", "department", ("approver",)),
    ("qy_bianban", "清源县委编办", "department", ("reviewer",)),
    ("qy_sifa", "清源县司法局", "department", ("legal_reviewer",)),
    ("qy_nongye", "清源县农业农村局", "department", ("applicant",)),
    ("qy_jiwei", "清源县纪委监委", "department", ("auditor", "discipline")),
    ("qy_shegong", "清源县委社会工作部", "department", ("social_work",)),
    ("qy_chengguan", "城关镇", "township", ("township",)),
    ("qy_hekou", "河口镇", "township", ("township",)),
    ("qy_baishi", "白石乡", "township", ("township",)),
)


@dataclass(frozen=True)
class DemoCity:
    created: bool
    usernames: list[str]


def load_demo_city(ctx: Context, password: str) -> DemoCity:
    """Put the demo county under 清江市 and add 清源县 and the city's office (after
    `load_demo`); running it again changes nothing."""
    usernames = [code for code, *_ in CITY_ORGS + SECOND_COUNTY_ORGS]
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if session.scalar(select(Organization).where(Organization.code == CITY[0])):
            return DemoCity(created=False, usernames=usernames)
        city = add_organization(session, CITY[0], CITY[1], "city", None)
        first = session.scalar(select(Organization).where(Organization.code == FIRST_COUNTY_CODE))
        if first is not None:
            change_organization(session, first, {"parent": city.code}, None, now)
        second = add_organization(session, SECOND_COUNTY[0], SECOND_COUNTY[1], "county", city)
        add_offices(session, city, CITY_ORGS, password, now, mail=False)
        add_offices(session, second, SECOND_COUNTY_ORGS, password, now, mail=False)
    return DemoCity(created=True, usernames=usernames)


# What 清源县 carries in the demo, so the city's picture compares two counties: a matter its
# agriculture bureau filed, judged by its offices and confirmed by two townships, and one
# waiting for review. (The judging forms are the shipped package's.)
_MATTER = {
    "name": "秸秆综合利用和禁烧巡查",
    "content": "秋收后每周对辖区秸秆焚烧情况巡查一次并报送巡查记录",
    "basis": "《中华人民共和国大气污染防治法》第七十七条",
    "reason": "秸秆禁烧点多面广，需乡镇配合日常巡查",
    "term_type": "short",
    "resources": {"funding_yuan": 40000, "staff": 1, "powers": "巡查、劝阻"},
    "assessment": "按月报送巡查记录，不单独考核乡镇",
}
_JUDGED = (
    ("qy_sifa", {"opinion": "lawful"}),
    ("qy_bianban", {"decision": "pass"}),
    (
        "qy_xianwei",
        {
            "decision": "pass",
            "meeting": "standing_committee",
            "meeting_date": "2026-09-28",
            "minutes_no": "清源县委常委会会议纪要〔2026〕19号",
        },
    ),
)


def load_demo_city_activity(ctx: Context) -> int:
    """清源县's matters through its own gate: what `zhunru load-demo` adds for the city view."""
    today = ctx.calendar.local(ctx.clock.now()).date()
    dates = {
        "start_date": today.isoformat(),
        "end_date": today.replace(year=today.year + 1).isoformat(),
    }
    filer = actor_of(ctx, "qy_nongye")
    admitted = {**_MATTER, **dates, "townships": ["qy_chengguan", "qy_hekou"]}
    started = instances.start(ctx, "matter_admission", admitted, filer)
    confirmed = {"confirmed": True, "resources_received": True}
    steps = [*_JUDGED, ("qy_chengguan", confirmed), ("qy_hekou", confirmed)]
    for username, form in steps:
        who = actor_of(ctx, username)
        [task] = [t for t in tasks.inbox(ctx, who, per_page=100) if t.instance_id == started.id]
        tasks.complete(ctx, task.id, form, who)
    waiting = {**_MATTER, **dates, "name": "农村户厕问题摸排", "townships": ["qy_baishi"]}
    instances.start(ctx, "matter_admission", waiting, filer)
    return 2
