"""Filing with the pre-check at a real county's scale: a city of 10 counties in one database,
each with 50 townships and a template of 340 items (and a few additions per township). Filings
of the demo county's agriculture bureau are timed, each to two townships in turn, with the
county's lists warm in this process (the first, cold filing is reported apart)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.common import APPLICATION, latency_summary
from engine.duty_lists.models_catalog import DutyItem, DutyListStamp
from engine.models import Organization
from engine.services import accounts
from engine.services.context import Context
from engine.workflow.services import instances

COUNTIES, TOWNSHIPS, ITEMS, ADDITIONS = 10, 50, 340, 3
LIST_TYPES = ("basic", "basic", "basic", "assisting", "assisting", "taken_back", "negative")
CATEGORIES = ("党的建设", "经济发展", "民生服务", "平安法治", "生态环保", "乡村振兴", "综合保障")
# Names like a county's list: a few verbs on many objects, so near-duplicates are many.
VERBS = ("组织开展", "协助做好", "负责", "配合开展", "督促落实", "统筹推进")
OBJECTS = (
    "耕地保护巡查",
    "森林防火宣传",
    "安全生产检查",
    "防汛抗旱值守",
    "人口普查登记",
    "退役军人走访",
    "残疾人服务",
    "低保对象核查",
    "农村危房排查",
    "河道保洁监督",
    "食品安全宣传",
    "燃气安全排查",
    "矛盾纠纷调解",
    "网格员管理",
    "义务教育控辍保学",
    "医疗保险参保动员",
    "养老保险参保动员",
    "农村供水设施管护",
    "秸秆禁烧巡查",
    "疫苗接种动员",
)


def seed(ctx: Context) -> dict[str, Any]:
    """Add the city, its counties and townships and their lists (once; again changes nothing)."""
    began = time.perf_counter()
    now = datetime.now(UTC)
    with ctx.db.write() as session:
        if session.scalar(select(Organization.id).where(Organization.code == "bench-city")):
            return {"seed_s": 0.0}
        city = Organization(code="bench-city", name="基准市", level="city", active=True)
        session.add(city)
        session.flush()
        demo = session.scalar(select(Organization).where(Organization.code == "county"))
        assert demo is not None
        demo.parent_id = city.id
        counties = [demo]
        for n in range(1, COUNTIES):
            county = Organization(
                code=f"bench-c{n}", name=f"基准{n}县", level="county", parent_id=city.id
            )
            session.add(county)
            session.flush()
            county.county_id = county.id
            counties.append(county)
        session.flush()
        rows = []
        for county in counties:
            have = session.scalar(
                select(func.count()).where(
                    Organization.county_id == county.id, Organization.level == "township"
                )
            )
            for n in range(TOWNSHIPS - (have or 0)):
                rows.append(
                    {
                        "code": f"bench-{county.id}-t{n}",
                        "name": f"第{n}乡镇",
                        "level": "township",
                        "parent_id": county.id,
                        "county_id": county.id,
                        "active": True,
                    }
                )
        session.execute(Organization.__table__.insert(), rows)
        townships = session.execute(
            select(Organization.id, Organization.county_id).where(Organization.level == "township")
        ).all()
        items = []
        for county in counties:
            for n in range(ITEMS):
                items.append(_item(county.id, f"BENCH-{n:03d}", n, now))
        for township_id, _ in townships:
            for n in range(ADDITIONS):
                items.append(_item(township_id, f"BENCH-T{n}", n * 7 + 3, now))
        session.execute(DutyItem.__table__.insert(), items)
        # Rows written as plain statements draw no stamp by themselves: give each county one.
        for county in counties:
            session.merge(DutyListStamp(county_id=county.id, stamp=secrets.token_hex(16)))
    return {"seed_s": round(time.perf_counter() - began, 1), "items": len(items)}


def _item(scope: int, code: str, n: int, now: datetime) -> dict[str, Any]:
    return {
        "scope_org_id": scope,
        "code": code,
        "list_type": LIST_TYPES[n % len(LIST_TYPES)],
        "category": CATEGORIES[n % len(CATEGORIES)],
        "name": f"{VERBS[n % len(VERBS)]}{OBJECTS[n % len(OBJECTS)]}（{n}）",
        "description": "",
        "responsible_body": "",
        "cooperating_department": "",
        "basis": "",
        "status": "active",
        "effective_from": None,
        "effective_to": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def run(ctx: Context, filings: int) -> dict[str, Any]:
    seeded = seed(ctx)
    nongye = accounts.actor_of(ctx, "nongye")
    with ctx.db.read() as session:
        codes = list(
            session.scalars(
                select(Organization.code)
                .where(Organization.county_id == nongye.county_id, Organization.level == "township")
                .order_by(Organization.id)
            )
        )

    def file(n: int) -> None:
        pair = [codes[n % len(codes)], codes[(n + 1) % len(codes)]]
        body = {**APPLICATION, "name": f"农田水利设施巡查（{n}）", "townships": pair}
        instances.start(ctx, "matter_admission", body, nongye)

    began = time.perf_counter()
    file(0)  # cold: the county's lists are read here
    cold = time.perf_counter() - began
    samples = []
    for n in range(1, filings + 1):
        start = time.perf_counter()
        file(n)
        samples.append(time.perf_counter() - start)
    return {
        "backend": ctx.db.engine.dialect.name,
        "counties": COUNTIES,
        "townships_per_county": TOWNSHIPS,
        "items_per_template": ITEMS,
        "cold_ms": round(cold * 1000, 1),
        **latency_summary(samples),
        **seeded,
    }
