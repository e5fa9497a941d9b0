from pathlib import Path

import pytest

from creditops.files import atomic_path, read_json, sha256_file, write_json


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
