import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditops.files import atomic_path, read_json, scratch_dir, sha256_file, write_json, write_text


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = write_json(tmp_path / "a.json", {"v": 1})

    def interrupted_write() -> None:
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted_write()
    assert read_json(target) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_directories_are_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "model"
    for version in ("1", "2"):
        with atomic_path(target) as temporary:
            temporary.mkdir()
            (temporary / "v").write_text(version)
    assert (target / "v").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_sha256_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_scratch_folders_of_dead_processes_are_swept_by_the_next_one(tmp_path: Path) -> None:
    left_by_a_killed_process = tmp_path / f"creditops-metrics-{_dead_pid()}-abc"
    left_by_a_killed_process.mkdir()
    (left_by_a_killed_process / "counter_1.db").write_bytes(b"x")
    still_in_use = tmp_path / f"creditops-metrics-{os.getpid()}-def"
    still_in_use.mkdir()
    with scratch_dir("creditops-metrics-", tmp_path) as mine:
        assert mine.is_dir()
        assert mine.name.startswith(f"creditops-metrics-{os.getpid()}-")
        assert not left_by_a_killed_process.exists()
        assert still_in_use.is_dir()
    assert not mine.exists()


def test_a_write_killed_before_its_rename_leaves_nothing_the_next_write_keeps(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    left = tmp_path / f".state.json.{_dead_pid()}-x1y2"
    left.mkdir()
    (left / "state.json").write_text("half")
    write_json(target, {"v": 2})
    assert read_json(target) == {"v": 2}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]


def test_a_file_never_replaces_a_folder_and_nothing_replaces_a_device(tmp_path: Path) -> None:
    from creditops.errors import CreditopsError

    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "important.txt").write_text("keep")
    with pytest.raises(CreditopsError, match=r"reports is a folder: give a file path, not a folder"):
        write_text(folder, "<html>")
    assert (folder / "important.txt").read_text() == "keep"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(CreditopsError, match=r"pipe is not a regular file \(a device, pipe or socket\)"):
        write_text(pipe, "<html>")
    assert not pipe.is_file()
    (tmp_path / "afile").write_text("")
    with pytest.raises(CreditopsError, match=r"afile is a file, not a folder: put h.html in a folder"):
        write_text(tmp_path / "afile" / "h.html", "<html>")
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []  # no staging left


def test_an_unwritable_folder_is_named_by_the_path_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def refused(prefix: str, dir: Path) -> str:
        raise PermissionError(13, "Permission denied", str(Path(dir) / f"{prefix}abc"))

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    with pytest.raises(PermissionError) as raised:
        write_text(tmp_path / "page.html", "<html>")
    assert raised.value.filename == str(tmp_path / "page.html")
