from pathlib import Path

import pytest

from creditops.cli import main
from creditops.errors import CreditopsError
from creditops.flow.pr_validation import STAGES, run_pr_validation
from creditops.flow.stages import COMMANDS, commands

REPO = Path(__file__).resolve().parents[2]


def test_unknown_stage_is_named(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match="unknown stage"):
        run_pr_validation(REPO, tmp_path, skip=("typecheck",))


def test_outside_the_project_it_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match="not the creditops project root"):
        run_pr_validation(tmp_path, tmp_path / "reports")


@pytest.mark.e2e
def test_integration_and_smoke_stages_run_and_clean_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the check stages are what `make test` itself runs; running them here would recurse
    monkeypatch.chdir(REPO)
    checks = tuple(COMMANDS)
    results = run_pr_validation(REPO, tmp_path / "reports", skip=checks, say=lambda m: None)
    ran = [result for result in results if not result.skipped]
    assert [(result.name, result.passed) for result in ran] == [("integration", True), ("smoke", True)]
    assert "answered the sample request" in ran[1].detail
    assert [result.name for result in results if result.skipped] == list(checks)
    assert (tmp_path / "reports").is_dir()


def test_ci_stage_refuses_an_unknown_stage_before_running_any(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "stage", "security", "typecheck"]) == 1
    captured = capsys.readouterr()
    assert "unknown stage 'typecheck'" in captured.err
    assert "stage security" not in captured.out


def test_ci_stage_says_how_long_each_stage_took(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr("creditops.flow.stages.run_stage", lambda stage, *_, **__: ran.append(stage) or "")
    assert main(["ci", "stage", "lint", "security"]) == 0
    assert ran == ["lint", "security"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "stage lint"
    assert lines[1].startswith("stage lint passed in ")
    assert lines[1].endswith(" s")
    assert lines[3].startswith("stage security passed in ")


def test_every_stage_lists_commands_that_write_reports_where_asked(tmp_path: Path) -> None:
    assert set(STAGES[: len(COMMANDS)]) == set(COMMANDS)
    assert ["mypy"] in commands("lint")
    unit = commands("unit", tmp_path)[-1]
    assert f"--junitxml={tmp_path / 'junit-unit.xml'}" in unit
    assert "not e2e" in unit


def test_the_command_exits_non_zero_on_a_bad_stage_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "pr-validation", "--skip", "typecheck"]) == 1
    assert "unknown stage" in capsys.readouterr().err


def test_every_stage_skipped_runs_nothing_and_lists_each_as_skipped(tmp_path: Path) -> None:
    said: list[str] = []
    results = run_pr_validation(REPO, tmp_path / "reports", skip=STAGES, say=said.append)
    assert [(result.name, result.skipped, result.failed) for result in results] == [
        (stage, True, False) for stage in STAGES
    ]
    assert said == []  # no stage started


def test_the_command_shows_skipped_stages_and_passes_when_nothing_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "200")
    skip = ",".join(STAGES)
    assert main(["ci", "pr-validation", "--skip", skip, "--reports", str(tmp_path / "reports")]) == 0
    shown = capsys.readouterr().out
    for stage in STAGES:
        assert any(line.strip("│ ").startswith(f"{stage} ") and "skipped" in line for line in shown.splitlines())


def test_the_help_names_every_stage_that_can_be_skipped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["ci", "pr-validation", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for stage in STAGES:
        assert f" {stage}," in shown or f" {stage};" in shown, stage
