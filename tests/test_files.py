import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditops.files import atomic_path, read_json, scratch_dir, sha256_file, write_json


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
