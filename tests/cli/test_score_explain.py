"""`--explain K`: one limit for batch scoring, an endpoint invocation and the scoring service."""

from pathlib import Path

import pytest

from creditops.cli import main
from creditops.serving.protocol import MAX_REASONS


@pytest.mark.parametrize("command", [["score", "--model", "models:/none/1"], ["endpoint", "invoke", "nosuch"]])
def test_every_command_takes_up_to_the_services_limit(
    workspace: Path, tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    files = ["--data", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")] if command[0] == "score" else []
    assert main([*command, *files, "--explain", str(MAX_REASONS + 1)]) == 2  # typer's range check
    assert f"'--explain': Input should be less than or equal to {MAX_REASONS}" in capsys.readouterr().err
    assert main([*command, *files, "--explain", str(MAX_REASONS)]) == 1  # accepted; then nothing to score
    assert "'--explain'" not in capsys.readouterr().err
