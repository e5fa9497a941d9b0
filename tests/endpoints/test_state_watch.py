"""The front door's processes and a state file that is not valid: refused in one log line, last good state kept."""

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from creditops.endpoints import state
from creditops.endpoints.front_door import EndpointSettings, FrontDoor, StateFile, _desired


def _write(path: Path, content: bytes) -> None:
    """Replace the file as an editor or a full disk would leave it, with a new stamp each time."""
    path.write_bytes(content)
    stamp = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    root = tmp_path / "endpoints"
    state.folder(root, "abc").mkdir(parents=True)
    state.save(root, state.Endpoint(name="abc", port=8123, auth="none", workers=3))
    return root / "abc" / state.STATE_FILE


def test_the_supervisor_keeps_the_last_good_worker_count(state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desired = _desired(StateFile(state_path))
    assert desired() == 3
    for garbled in (b'{"name": "abc", "workers": 5', json.dumps({"workers": "abc"}).encode(), b"[]"):
        _write(state_path, garbled)
        assert desired() == 3
        assert desired() == 3
    log = capsys.readouterr().out.splitlines()
    assert len(log) == 3  # one line per change of the file, not one per look at it
    assert all(line.startswith("refused the endpoint state, still serving generation 1: ") for line in log)
    fixed = state.Endpoint(name="abc", port=8123, auth="none", workers=2, generation=2)
    _write(state_path, json.dumps(asdict(fixed)).encode())
    assert desired() == 2


def test_a_worker_serves_the_last_good_state_and_one_started_later_too(
    state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = StateFile(state_path)
    door = FrontDoor(watched, None, EndpointSettings())
    assert door.routes.generation == 1
    _write(state_path, b'{"name": "abc", "port": ')
    assert door.refresh() is False
    assert door.routes.generation == 1
    later = FrontDoor(watched, None, EndpointSettings())  # what a worker forked now starts from
    assert later.routes.generation == 1
    assert "still serving generation 1" in capsys.readouterr().out
    report = json.loads((state_path.parent / "run" / f"worker-{os.getpid()}.json").read_text())
    assert report["generation"] == 1


def test_a_worker_started_on_a_bad_file_answers_instead_of_dying(
    state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(state_path, b"garbage")
    door = FrontDoor(StateFile(state_path), None, EndpointSettings())
    assert door.routes.weighted == ()
    assert "refused the endpoint state, still serving nothing yet" in capsys.readouterr().out
