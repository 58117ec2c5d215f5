"""Every kind of trail record the engine writes has a Chinese name in the console: an auditor
never reads "其他记录" (or a code) for something the service did."""

from __future__ import annotations

import re
from pathlib import Path

from api.console.labels import ACTION_LABELS

ENGINE = Path(__file__).resolve().parents[2] / "engine"
WRITTEN = re.compile(r"""Entry\(\s*["']([a-z_]+)["']""")


def test_every_action_the_engine_records_has_a_name() -> None:
    written = {
        action
        for path in ENGINE.rglob("*.py")
        for action in WRITTEN.findall(path.read_text(encoding="utf-8"))
    }
    assert len(written) > 20  # the scan finds the engine's records
    unnamed = sorted(written - set(ACTION_LABELS))
    assert unnamed == []
