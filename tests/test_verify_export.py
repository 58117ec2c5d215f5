"""Export → offline verification round trip: tools/verify_export.py run as auditors would run it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.services.context import Context
from engine.trail import signing
from engine.trail.services import trail, trail_export
from tests.integration.test_admission_services import actor, admit
from tests.trail_helpers import configure_key

VERIFIER = Path(__file__).resolve().parents[1] / "tools" / "verify_export.py"


def run_verifier(export: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFIER), str(export), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=export.parent,  # not the project: it must stand alone
    )


@pytest.fixture
def exported(ctx: Context, tmp_path: Path) -> tuple[Path, str, int]:
    """A sealed matter's trail exported as JSON Lines, and the verifier key."""
    signer = configure_key(ctx, tmp_path)
    instance_id = admit(ctx, ["chengguan"])
    trail.create_checkpoint(ctx, actor(ctx, "jiwei"))
    export = trail_export.export_instance(ctx, actor(ctx, "jiwei"), instance_id, "jsonl")
    path = tmp_path / export.filename
    path.write_text(export.content, encoding="utf-8")
    return path, signer.verifier.text(), instance_id


def rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = change(records)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def test_verifier_stands_alone() -> None:
    source = VERIFIER.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) (engine|api|config|tests)\b", source, re.M)


def test_an_export_verifies_offline(exported: tuple[Path, str, int]) -> None:
    path, key, _ = exported
    result = run_verifier(path, "--key", key, "--origin", "zhunru.test/trail", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 处不符" in result.stdout and "检查点：zhunru.test/trail" in result.stdout


def test_an_edited_event_is_named(exported: tuple[Path, str, int]) -> None:
    path, key, instance_id = exported

    def edit(records: list[dict]) -> list[dict]:
        records[3]["payload"] = {"forged": True}
        return records

    rewrite(path, edit)
    result = run_verifier(path, "--key", key)
    assert result.returncode == 1
    assert f"（事项 {instance_id}第 3 条）：内容与哈希不符" in result.stdout


def test_a_removed_event_is_named(exported: tuple[Path, str, int]) -> None:
    path, key, instance_id = exported
    rewrite(path, lambda records: records[:2] + records[3:])
    result = run_verifier(path, "--key", key)
    assert result.returncode == 1
    assert f"（事项 {instance_id}第 3 条）：此前缺少第 2 条" in result.stdout


def test_events_swapped_in_the_order_written_are_named(exported: tuple[Path, str, int]) -> None:
    """Contents, hashes and links intact, but seq 4 was written before seq 3."""
    path, key, instance_id = exported

    def swap(records: list[dict]) -> list[dict]:
        records[3]["id"], records[4]["id"] = records[4]["id"], records[3]["id"]
        return records

    rewrite(path, swap)
    result = run_verifier(path, "--key", key)
    assert result.returncode == 1
    assert f"（事项 {instance_id}第 4 条）：写入顺序与序号不符" in result.stdout
    assert "内容与哈希不符" not in result.stdout and "未链接" not in result.stdout


def test_a_rehashed_event_is_not_in_the_checkpoint(exported: tuple[Path, str, int]) -> None:
    """A forger who recomputes the chain cannot recompute the signed root."""
    path, key, _ = exported

    def forge(records: list[dict]) -> list[dict]:
        events = records[1:]
        events[-1]["payload"] = {"forged": True}
        fields = ("action", "actor_id", "actor_org_id", "at", "instance_id", "payload")
        body = {k: events[-1][k] for k in (*fields, "role", "seq", "task")}
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        events[-1]["hash"] = hashlib.sha256((events[-1]["prev_hash"] + text).encode()).hexdigest()
        return records

    rewrite(path, forge)
    result = run_verifier(path, "--key", key)
    assert result.returncode == 1
    assert "不在检查点的默克尔树中" in result.stdout
    assert "内容与哈希不符" not in result.stdout


def test_a_forged_checkpoint_or_a_wrong_key_fails(exported: tuple[Path, str, int]) -> None:
    path, key, _ = exported
    stranger = signing.generate_signer("zhunru.test/trail").verifier.text()
    result = run_verifier(path, "--key", stranger)
    assert result.returncode == 1 and "没有 zhunru.test/trail 的签名" in result.stdout

    def shrink(records: list[dict]) -> list[dict]:
        lines = records[0]["note"].split("\n")
        lines[1] = str(int(lines[1]) - 1)
        records[0]["note"] = "\n".join(lines)
        return records

    rewrite(path, shrink)
    result = run_verifier(path, "--key", key)
    assert result.returncode == 1 and "签名无效" in result.stdout


def test_events_newer_than_the_checkpoint_are_listed(ctx: Context, tmp_path: Path) -> None:
    signer = configure_key(ctx, tmp_path)
    admit(ctx, ["donghe"])
    trail.create_checkpoint(ctx, actor(ctx, "jiwei"))
    later = admit(ctx, ["xishan"])
    export = trail_export.export_instance(ctx, actor(ctx, "jiwei"), later, "jsonl")
    path = tmp_path / export.filename
    path.write_text(export.content, encoding="utf-8")
    key = signer.verifier.text()
    relaxed = run_verifier(path, "--key", key)
    assert relaxed.returncode == 0 and "尚不能证明" in relaxed.stdout
    assert run_verifier(path, "--key", key, "--strict").returncode == 1
    assert run_verifier(path, "--key", "garbage").returncode == 2
