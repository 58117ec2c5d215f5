"""`zhunru catalog import` and `export` on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from engine.duty_lists.catalog_files import read_rows

GOOD = (
    "编码,适用范围,清单类型,类别,事项名称,责任主体\n"
    "QH-JB-901,county,基本履职事项,公共服务,古树名木挂牌养护,乡镇（街道）\n"
    "DH-PH-901,donghe,配合履职事项,城乡建设,渡口渡船安全巡查,东河乡\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {
        "ZHUNRU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ZHUNRU_SECRET_KEY": "s" * 64,
        "ZHUNRU_DEMO_PASSWORD": "cli-demo-password",
    }
    assert CliRunner().invoke(main, ["load-demo"], env=env).exit_code == 0
    return env


def test_import_then_export(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "lists.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "import", str(source)], env=env)
    assert result.exit_code == 0, result.output
    assert "已导入 2 行：新增 2" in result.output
    target = tmp_path / "donghe.xlsx"
    result = CliRunner().invoke(
        main, ["catalog", "export", str(target), "--township", "donghe"], env=env
    )
    assert result.exit_code == 0, result.output
    rows = read_rows(target.name, target.read_bytes())
    # The demo county's lists are there too; the two imported items are on donghe's list.
    assert {"古树名木挂牌养护", "渡口渡船安全巡查"} <= {r.values["name"] for r in rows}


def test_bad_row_is_reported_and_nothing_is_stored(env: dict[str, str], tmp_path: Path) -> None:
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    CliRunner().invoke(main, ["catalog", "export", str(before)], env=env)
    source = tmp_path / "lists.csv"
    source.write_text(GOOD + "X-1,county,未知清单,公共服务,某事项,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "import", str(source)], env=env)
    assert result.exit_code == 2
    assert "第 4 行" in result.output and "清单类型" in result.output
    CliRunner().invoke(main, ["catalog", "export", str(after)], env=env)
    # Not even the two good rows: the lists are exactly as they were.
    assert read_rows(after.name, after.read_bytes()) == read_rows(before.name, before.read_bytes())
