"""The zhunru command line on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from config import Settings
from engine.models import Instance, Organization
from engine.services.context import build_context


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ZHUNRU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ZHUNRU_SECRET_KEY": "s" * 64,
        "ZHUNRU_DEMO_PASSWORD": "cli-demo-password",
    }


def test_load_demo_creates_the_county_once_and_prints_the_password(env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    first = runner.invoke(main, ["load-demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "cli-demo-password" in first.output and "xianwei" in first.output
    # The other burden gates hold something to look at: meetings next month, next year's
    # inspections, each through its gate.
    assert "会议、督查检查、吹哨、部门评价和报表 16 件" in first.output, first.output
    # The demo county stands in a city with a second county, whose office reads both.
    assert "清源县" in first.output and "shi_bianban" in first.output
    ctx = build_context(Settings.from_env(env))
    try:
        with ctx.db.read() as session:
            second = sorted(
                session.scalars(
                    select(Instance.status)
                    .join(Organization, Organization.id == Instance.county_id)
                    .where(Organization.code == "qingyuan")
                )
            )
            statuses = sorted(
                session.execute(
                    select(Instance.process_id, Instance.status).where(
                        Instance.process_id.in_(
                            ("meeting_admission", "inspection_admission", "township_need")
                        )
                    )
                ).all()
            )
    finally:
        ctx.db.dispose()
    assert second == ["in_force", "pending"]  # 清源县's own, judged by its own offices
    assert statuses == [
        ("inspection_admission", "merged"),
        ("inspection_admission", "planned"),
        ("inspection_admission", "planned"),
        ("meeting_admission", "refused"),
        ("meeting_admission", "scheduled"),
        ("meeting_admission", "scheduled"),
        ("township_need", "pending"),
        ("township_need", "pending"),
        ("township_need", "resolved"),
    ]
    again = runner.invoke(main, ["load-demo"], env=env)
    assert again.exit_code == 0 and "未改动" in again.output


def test_load_demo_without_a_password_fails_clearly(env: dict[str, str]) -> None:
    env["ZHUNRU_DEMO_PASSWORD"] = ""
    result = CliRunner().invoke(main, ["load-demo"], env=env)
    assert result.exit_code == 2
    assert "ZHUNRU_DEMO_PASSWORD" in result.output or "演示密码" in result.output


def test_deploy_reports_each_process(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["deploy"], env=env)
    assert result.exit_code == 0, result.output
    deployed = [line.split()[:2] for line in result.output.splitlines()]
    assert sorted(deployed) == [
        ["clearance", "v1"],
        ["department_rating", "v1"],
        ["fault_tolerance", "v1"],
        ["inspection_admission", "v1"],
        ["listing_admission", "v1"],
        ["matter_admission", "v1"],
        ["meeting_admission", "v1"],
        ["report_form", "v1"],
        ["secondment_admission", "v1"],
        ["township_need", "v1"],
    ]


def test_app_factory_refuses_to_start_without_a_secret(env: dict[str, str]) -> None:
    from api import create_app
    from config import Settings, SettingsError

    with pytest.raises(SettingsError, match="ZHUNRU_SECRET_KEY"):
        create_app(Settings.from_env({**env, "ZHUNRU_SECRET_KEY": ""}))


def test_users_email_sets_where_notices_reach_a_person(env: dict[str, str]) -> None:
    from sqlalchemy import create_engine, text

    runner = CliRunner()
    assert runner.invoke(main, ["load-demo"], env=env).exit_code == 0
    done = runner.invoke(main, ["users", "email", "nongye", "keyuan@county.example"], env=env)
    assert done.exit_code == 0 and "keyuan@county.example" in done.output, done.output
    bad = runner.invoke(main, ["users", "email", "nongye", "not-an-address"], env=env)
    assert bad.exit_code != 0 and "电子邮箱地址无效" in bad.output
    nobody = runner.invoke(main, ["users", "email", "nobody", "a@county.example"], env=env)
    assert nobody.exit_code != 0 and "用户不存在" in nobody.output
    engine = create_engine(env["ZHUNRU_DATABASE_URL"])
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT email FROM user_account WHERE username = 'nongye'"))
        assert stored.scalar() == "keyuan@county.example"  # the bad address changed nothing
    engine.dispose()
