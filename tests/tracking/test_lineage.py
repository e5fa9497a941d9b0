import hashlib
import subprocess
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.tracking.lineage import fingerprint, git_commit


def test_commit_of_a_repository_and_dirty_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITOPS_GIT_COMMIT", raising=False)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("one")
    subprocess.run([*git, "-C", str(tmp_path), "add", "a.txt"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "first"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_commit(tmp_path) == head
    (tmp_path / "a.txt").write_text("two")
    assert git_commit(tmp_path) == f"{head}-dirty"


def test_outside_a_repository_the_commit_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITOPS_GIT_COMMIT", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_commit(tmp_path) == "unknown"


def test_commit_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITOPS_GIT_COMMIT", "abc123")
    assert git_commit(override=from_process().commit_override) == "abc123"


def test_fingerprint_changes_with_each_input() -> None:
    base = {"data_sha256": "d", "config_hash": "c", "commit": "g"}
    prints = {fingerprint(**base)} | {fingerprint(**{**base, key: "x"}) for key in base}
    assert len(prints) == 4


def test_the_fingerprint_is_pinned() -> None:
    # Changing how it is computed would make every registered version look new: pin the exact value.
    import creditops

    expected = hashlib.sha256(f"d|c|g|{creditops.__version__}".encode()).hexdigest()[:16]
    assert fingerprint(data_sha256="d", config_hash="c", commit="g") == expected


def test_without_git_the_commit_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditops.tracking.lineage.shutil.which", lambda name: None)
    assert git_commit() == "unknown"


def test_untracked_files_do_not_make_a_commit_dirty(tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("one")
    subprocess.run([*git, "-C", str(tmp_path), "add", "a.txt"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "first"], check=True)
    (tmp_path / "notes.txt").write_text("not tracked")
    assert not git_commit(tmp_path).endswith("-dirty")
