"""What --help shows: no value type on flags, no path of this machine in a default."""

import pytest

from creditops.cli import main
from creditops.serving.protocol import SAMPLE_REQUEST


@pytest.mark.parametrize("command", [["run"], ["endpoint", "invoke"], ["endpoint", "rollout"], ["smoke-test"]])
def test_help_shows_no_bool_type_on_flags_and_no_install_path(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*command, "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--help" in shown
    assert "<bool>" not in shown
    assert str(SAMPLE_REQUEST.parent) not in shown


def test_shell_completion_is_offered(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert main(["--show-completion", "bash"]) == 0
    assert "_creditops_completion" in capsys.readouterr().out
