"""`creditops gate summary` on a throwaway project whose prod release awaits approval."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.context import from_process
from creditops.flow import release

from ..small_environments import small_project

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project with small environments, as tests/flow's; the release stops before any endpoint exists."""
    yield small_project(tmp_path, monkeypatch)
    assert not list((tmp_path / ".creditops").glob("**/endpoints/*"))  # nothing left serving


def test_summary_of_the_version_awaiting_approval(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no gate decision yet: a clear one-line error
    assert main(["gate", "summary", "--env", "prod"]) == 1
    assert "no version of credit_default_model has a gate decision in prod" in capsys.readouterr().err

    # Given a prod release that trained, gated and stopped for approval
    with pytest.raises(release.AwaitingApprovalError):
        release.release(from_process("prod"), say=lambda _: None)

    # When the summary is printed: the Markdown of version 1's decision, nothing else on stdout
    assert main(["gate", "summary", "--env", "prod"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("## Gate decision: credit_default_model v1 in prod: awaiting-approval\n")
    assert "| pending | approval |" in printed
    assert "| champion | none | first model: nothing to compare |" in printed
    assert "artifact `report/credit_default_model-v1.html`" in printed

    # When written to a file with the card copied: the path on stdout, the same Markdown in the file
    out, cards = project / "summary" / "gate.md", project / "cards"
    assert (
        main(["gate", "summary", "--env", "prod", "--version", "1", "--out", str(out), "--card-out", str(cards)]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert out.read_text() == printed
    card = cards / "credit_default_model-v1.html"
    assert str(card) in " ".join(captured.err.split())
    assert "<html" in card.read_text().lower()

    # Another environment's store has no such version: refused in one line
    assert main(["gate", "summary", "--env", "staging", "--version", "1"]) == 1
    assert "error: no registered model named 'credit_default_model'" in capsys.readouterr().err

    # Only this CI job's decision: --since the job's start; a later start decided nothing and writes nothing
    since = project / "since.md"
    assert main(["gate", "summary", "--env", "prod", "--since", "2000-01-01T00:00:00Z", "--out", str(since)]) == 0
    assert since.read_text() == printed
    since.unlink()
    assert main(["gate", "summary", "--env", "prod", "--since", "2999-01-01T00:00:00Z", "--out", str(since)]) == 0
    assert "no gate decision in prod since 2999-01-01T00:00:00Z" in capsys.readouterr().err
    assert not since.exists()
    for bad, message in (("yesterday", "is not an ISO 8601 time"), ("2026-12-05T04:10:00", "has no UTC offset")):
        assert main(["gate", "summary", "--env", "prod", "--since", bad]) == 1
        assert message in capsys.readouterr().err
    assert main(["gate", "summary", "--env", "prod", "--since", "2000-01-01T00:00:00Z", "--version", "1"]) == 1
    assert "--since and --version choose the decision two ways" in capsys.readouterr().err
