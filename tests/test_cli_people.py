"""A county brings its organisations and people in bulk (issue 15): 30 offices and 300 people
from one XLSX workbook in one command on a fresh database; the people sign in with the
passwords written for them and must change them; a file with one bad row stores nothing and
names the row; the export reads back as the same county."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from api.cli import main
from config import Settings
from engine.errors import Unauthenticated
from engine.models import Organization, User
from engine.services import accounts
from engine.services.context import build_context

DEPARTMENTS = (
    ("bianban", "县委编办", "审核（县委编办）"),
    ("sifa", "县司法局", "合法性审查（司法局）"),
    ("xianwei", "县委县政府", "审批（县委县政府）"),
    ("jiwei", "县纪委监委", "审计监督、纪检监察（县纪委监委承办）"),
    ("zuzhibu", "县委组织部", "组织部门（县委组织部）"),
    ("shuju", "县政务服务和大数据管理局", "平台管理员"),
    *((f"bumen{n:02d}", f"县直部门{n:02d}", "申请单位") for n in range(1, 9)),
)
TOWNSHIPS = tuple((f"xiang{n:02d}", f"第{n:02d}乡", "乡镇（街道）") for n in range(1, 16))


def _county_workbook(bad_person_line: int | None = None) -> bytes:
    """安平县: the county, 14 departments and 15 townships (30 offices), ten people each."""
    book = Workbook()
    orgs = book.active
    orgs.title = "单位"
    orgs.append(["单位编码", "单位名称", "层级", "上级单位编码"])
    orgs.append(["anping", "安平县", "县（市、区）", ""])
    people = book.create_sheet("人员")
    people.append(["登录名", "姓名", "单位编码", "角色", "电子邮箱"])
    for n in range(10):  # the county's own leaders, each possibly concerned by a case
        people.append([f"anping_{n}", f"安平县领导{n}", "anping", "干部（当事人）", ""])
    for code, name, roles in (*DEPARTMENTS, *TOWNSHIPS):
        level = "乡镇（街道）" if code.startswith("xiang") else "县直部门"
        orgs.append([code, name, level, "anping"])
        for n in range(10):
            people.append(
                [f"{code}_{n}", f"{name}工作人员{n}", code, roles, f"{code}.{n}@zhunru.example"]
            )
    if bad_person_line is not None:  # a township's work given to a department's person
        people.cell(row=bad_person_line, column=4, value="乡镇（街道）")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "ZHUNRU_DATABASE_URL": f"sqlite:///{tmp_path / 'county.db'}",
        "ZHUNRU_SECRET_KEY": "s" * 64,
    }


def _counts(env: dict[str, str]) -> tuple[int, int]:
    ctx = build_context(Settings.from_env(env))
    with ctx.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Organization)) or 0,
            session.scalar(select(func.count()).select_from(User)) or 0,
        )


def test_a_county_of_30_offices_and_300_people_comes_in_one_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    workbook = tmp_path / "安平县单位和人员.xlsx"
    workbook.write_bytes(_county_workbook())
    passwords = tmp_path / "passwords.csv"
    result = runner.invoke(
        main, ["users", "import", str(workbook), "--passwords", str(passwords)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "新增单位 30" in result.output and "新增人员 300" in result.output
    assert _counts(env) == (30, 300)

    # The passwords file is the administrator's alone, one line per new person.
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    with passwords.open(encoding="utf-8-sig") as handle:
        issued = list(csv.DictReader(handle))
    assert len(issued) == 300
    first = next(row for row in issued if row["登录名"] == "xiang07_3")
    assert first["单位"] == "第07乡"
    ctx = build_context(Settings.from_env(env))
    token = accounts.authenticate(ctx, "xiang07_3", first["临时密码"])
    assert token.must_change_password is True and token.roles == ["township"]
    jiwei = accounts.actor_for_token(
        ctx,
        accounts.authenticate(
            ctx, "jiwei_0", next(r["临时密码"] for r in issued if r["登录名"] == "jiwei_0")
        ).access_token,
    )
    assert jiwei.roles == {"auditor", "discipline"} and jiwei.password_change_due

    # The same file again changes nothing; the export reads back as the same county.
    again = runner.invoke(
        main, ["users", "import", str(workbook), "--passwords", str(passwords)], env=env
    )
    assert again.exit_code == 0 and "未变 330" in again.output, again.output
    exported = tmp_path / "export.xlsx"
    assert runner.invoke(main, ["users", "export", str(exported)], env=env).exit_code == 0
    book = load_workbook(exported, read_only=True)
    assert [ws.title for ws in book.worksheets] == ["单位", "人员"]
    people_rows = list(book["人员"].iter_rows(values_only=True))
    assert len(people_rows) == 301
    assert ("xiang07_3", "第07乡工作人员3", "xiang07", "乡镇（街道）") == people_rows[
        [r[0] for r in people_rows].index("xiang07_3")
    ][:4]
    round_trip = runner.invoke(main, ["users", "import", str(exported)], env=env)
    assert round_trip.exit_code == 0 and "未变 330" in round_trip.output, round_trip.output


def test_one_bad_row_stores_nothing_and_is_named(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    workbook = tmp_path / "county.xlsx"
    workbook.write_bytes(_county_workbook(bad_person_line=101))
    result = runner.invoke(
        main, ["users", "import", str(workbook), "--passwords", str(tmp_path / "p.csv")], env=env
    )
    assert result.exit_code == 2, result.output
    assert "人员表第 101 行" in result.output and "不能担任：乡镇（街道）" in result.output
    assert _counts(env) == (0, 0)
    assert not (tmp_path / "p.csv").exists()


def test_bad_files_are_refused_clearly(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"], env=env).exit_code == 0
    cases = {
        "broken.xlsx": (b"PK\x03\x04 not really", "无法读取"),
        "people.txt": (b"x", "文件格式不支持"),
        "people.csv": ("姓名,电话\n张三,123\n".encode(), "表头有误"),
        "orgs.csv": (
            "单位编码,单位名称,层级,上级单位编码\nx1,某镇,乡镇（街道）,nowhere\n".encode(),
            "单位表第 2 行",
        ),
    }
    for name, (content, shown) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = runner.invoke(main, ["users", "import", str(path)], env=env)
        assert result.exit_code == 2 and shown in result.output, (name, result.output)
    assert _counts(env) == (0, 0)


def test_the_cli_resets_a_password_when_nobody_can_sign_in(env: dict[str, str]) -> None:
    env = {**env, "ZHUNRU_DEMO_PASSWORD": "cli-demo-password"}
    runner = CliRunner()
    assert runner.invoke(main, ["load-demo"], env=env).exit_code == 0
    result = runner.invoke(main, ["users", "reset-password", "admin"], env=env)
    assert result.exit_code == 0, result.output
    temporary = result.output.split("临时密码：")[1].split()[0]
    ctx = build_context(Settings.from_env(env))
    actor = accounts.actor_for_token(
        ctx, accounts.authenticate(ctx, "admin", temporary).access_token
    )
    assert actor.password_change_due
    with pytest.raises(Unauthenticated):  # the demo password no longer works
        accounts.authenticate(ctx, "admin", "cli-demo-password")
    assert runner.invoke(main, ["users", "reset-password", "nobody"], env=env).exit_code == 2
