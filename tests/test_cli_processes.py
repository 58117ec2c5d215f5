"""`zhunru process versions` and `zhunru process activate` on a real SQLite file: an operator
rolls a bad deployment back from the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from tests.api.test_deploy_rollback import ADMISSION, BAD
from tests.test_cli import env  # noqa: F401 (fixture)


def test_operator_rolls_back_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    runner = CliRunner()
    assert runner.invoke(main, ["deploy", "--activate"], env=env).exit_code == 0
    bad_dir = tmp_path / "bad"
    (bad_dir / "matter_admission").mkdir(parents=True)  # a package folder: diagram and forms
    (bad_dir / "matter_admission" / "matter_admission.bpmn").write_bytes(BAD)
    for name, content in ADMISSION.files.items():
        (bad_dir / "matter_admission" / name).write_bytes(content)
    deployed = runner.invoke(main, ["deploy", str(bad_dir)], env=env)
    assert deployed.exit_code == 0 and "matter_admission v2 draft" in deployed.output
    drafted = runner.invoke(main, ["process", "versions", "matter_admission"], env=env)
    assert drafted.output.splitlines()[1].startswith("当前 matter_admission v1")
    assert (
        runner.invoke(main, ["process", "activate", "matter_admission", "2"], env=env).exit_code
        == 0
    )

    listed = runner.invoke(main, ["process", "versions", "matter_admission"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("当前 matter_admission v2") and "v1" in lines[1]

    activated = runner.invoke(main, ["process", "activate", "matter_admission", "1"], env=env)
    assert activated.exit_code == 0, activated.output
    assert "已设为当前版本" in activated.output and "v1" in activated.output
    listed = runner.invoke(main, ["process", "versions", "matter_admission"], env=env)
    assert listed.output.splitlines()[1].startswith("当前 matter_admission v1")

    missing = runner.invoke(main, ["process", "activate", "matter_admission", "9"], env=env)
    assert missing.exit_code == 2 and "没有第 9 版" in missing.output
    unknown = runner.invoke(main, ["process", "versions", "nope"], env=env)
    assert unknown.exit_code == 2 and "不存在" in unknown.output
