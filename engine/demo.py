"""The demo county: organisations, one user per organisation, and the deployed diagrams."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.demo_catalog import load_demo_catalog
from engine.errors import InvalidInput
from engine.models import Organization
from engine.services.accounts import add_organization, add_user
from engine.services.context import Context
from engine.services.deployments import deploy_directory

COUNTY = ("county", "清河县")

# code (= username), name, level, roles
DEMO_ORGS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("xianwei", "县委县政府", "department", ("approver",)),
    ("bianban", "县委编办", "department", ("reviewer",)),
    ("sifa", "县司法局", "department", ("legal_reviewer",)),
    ("nongye", "县农业农村局", "department", ("applicant",)),
    ("jiaoyu", "县教育局", "department", ("applicant",)),
    ("minzheng", "县民政局", "department", ("applicant",)),
    ("jiwei", "县纪委监委", "department", ("auditor",)),
    ("admin", "县政务服务和大数据管理局", "department", ("admin",)),
    ("chengguan", "城关镇", "township", ("township",)),
    ("donghe", "东河乡", "township", ("township",)),
    ("xishan", "西山镇", "township", ("township",)),
    ("nanhu", "南湖街道", "township", ("township",)),
    ("beiling", "北岭乡", "township", ("township",)),
)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    usernames: list[str]


def load_demo(ctx: Context, password: str) -> DemoResult:
    """Create the demo county once; running it again changes nothing."""
    if len(password) < 8:
        raise InvalidInput(
            "演示密码至少 8 个字符", {"ZHUNRU_DEMO_PASSWORD": ["请设置至少 8 个字符的演示密码"]}
        )
    deploy_directory(ctx, ctx.settings.bpmn_dir)
    usernames = [code for code, *_ in DEMO_ORGS]
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if session.scalar(select(Organization).where(Organization.code == COUNTY[0])):
            return DemoResult(created=False, usernames=usernames)
        county = add_organization(session, COUNTY[0], COUNTY[1], "county", None)
        for code, name, level, roles in DEMO_ORGS:
            org = add_organization(session, code, name, level, county)
            add_user(
                session,
                username=code,
                display_name=f"{name}经办人",
                password=password,
                org=org,
                roles=list(roles),
                by=None,
                at=now,
            )
    load_demo_catalog(ctx)
    return DemoResult(created=True, usernames=usernames)
