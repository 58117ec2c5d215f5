"""`zhunru audit keygen | checkpoint | verify` on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "ZHUNRU_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ZHUNRU_SECRET_KEY": "s" * 64,
        "ZHUNRU_DEMO_PASSWORD": "cli-demo-password",
        "ZHUNRU_AUDIT_KEY_FILE": str(tmp_path / "keys" / "audit.key"),
        "ZHUNRU_AUDIT_ORIGIN": "county.example/trail",
    }
    loaded = CliRunner().invoke(main, ["load-demo"], env=values)
    assert loaded.exit_code == 0, loaded.output
    return values


def test_keygen_writes_a_key_once_and_prints_the_verifier(env: dict[str, str]) -> None:
    made = CliRunner().invoke(main, ["audit", "keygen"], env=env)
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("county.example/trail+")
    assert Path(env["ZHUNRU_AUDIT_KEY_FILE"]).read_text().startswith("PRIVATE+KEY+county.example")
    again = CliRunner().invoke(main, ["audit", "keygen"], env=env)
    assert again.exit_code == 2 and "已存在" in again.output


def test_checkpoint_then_verify_with_the_kept_note(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    unsigned = runner.invoke(main, ["audit", "checkpoint"], env=env)
    assert unsigned.exit_code == 2 and "keygen" in unsigned.output
    runner.invoke(main, ["audit", "keygen"], env=env)
    kept = tmp_path / "checkpoint.txt"
    sealed = runner.invoke(main, ["audit", "checkpoint", "--out", str(kept)], env=env)
    assert sealed.exit_code == 0, sealed.output
    assert sealed.stdout == kept.read_text() and "\n\n— county.example/trail " in sealed.stdout

    verified = runner.invoke(main, ["audit", "verify", "--checkpoint", str(kept)], env=env)
    assert verified.exit_code == 0, verified.output
    assert "核验通过" in verified.stdout and "所持检查点 1 个" in verified.stdout

    database = sqlite3.connect(env["ZHUNRU_DATABASE_URL"].removeprefix("sqlite:///"))
    with database:
        database.execute(
            "UPDATE audit_event SET payload_json = '{}' WHERE seq = 2 AND instance_id IS NULL"
        )
    database.close()
    broken = runner.invoke(main, ["audit", "verify", "--json"], env=env)
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False
    assert [(p["instance_id"], p["seq"]) for p in report["problems"]] == [(None, 2)]
    assert "管理链 第 2 号事件" in report["problems"][0]["message"]
