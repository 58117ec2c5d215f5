"""The county's fault-tolerance list: the shipped file loads, a broken one is named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from config.tolerance import ToleranceRulesError, load_tolerance_rules


def test_the_shipped_list_has_circumstances_with_effects_and_exclusions() -> None:
    rules = load_tolerance_rules(Settings().tolerance_rules_file)
    effects = {rule.effect for rule in rules.circumstances}
    assert effects == {"exempt", "reduced"}
    assert "work_safety_accident" in rules.exclusion_labels()
    assert rules.circumstance_labels()["force_majeure"] == "因不可抗力造成损失"


def test_settings_point_at_a_county_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[circumstance]]\ncode = "flood"\nlabel = "抗洪抢险"\neffect = "exempt"\n'
        '[[exclusion]]\ncode = "graft"\nlabel = "贪污"\n',
        encoding="utf-8",
    )
    settings = Settings.from_env({"ZHUNRU_TOLERANCE_RULES_FILE": str(path)})
    rules = load_tolerance_rules(settings.tolerance_rules_file)
    assert rules.circumstance_labels() == {"flood": "抗洪抢险"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one [[circumstance]]"),
        ('[[circumstance]]\ncode = "a b"\nlabel = "x"\neffect = "exempt"\n', "identifier"),
        ('[[circumstance]]\ncode = "a"\nlabel = "x"\neffect = "maybe"\n', "effect must be"),
        (
            '[[circumstance]]\ncode = "a"\nlabel = "x"\neffect = "exempt"\n'
            '[[circumstance]]\ncode = "a"\nlabel = "y"\neffect = "reduced"\n'
            '[[exclusion]]\ncode = "b"\nlabel = "z"\n',
            "appears twice",
        ),
        ('[[circumstance]]\ncode = "a"\nlabel = " "\neffect = "exempt"\n', "label is required"),
        ("circumstance = [", "rules.toml"),
    ],
)
def test_a_broken_list_is_refused_with_the_file_and_entry_named(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ToleranceRulesError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_tolerance_rules(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ToleranceRulesError, match="missing.toml"):
        load_tolerance_rules(tmp_path / "missing.toml")
