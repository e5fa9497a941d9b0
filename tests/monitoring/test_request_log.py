import os
import time
from pathlib import Path

import numpy as np

from creditops.monitoring.request_log import RequestLog, read


def test_rows_are_logged_with_answers_and_read_back(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3")
    features = np.arange(46, dtype=float).reshape(2, 23)
    log.record(features, np.array([0.1, 0.9]), np.array([0, 1]))
    rows = list(read(tmp_path, 0))
    log.close()
    assert [row["class"] for row in rows] == [0, 1]
    assert rows[1]["features"] == list(features[1])
    assert {row["deployment"] for row in rows} == {"blue"}
    assert rows[0]["model_version"] == "3"
    assert [row["id"] for row in rows] == [None, None]


def test_the_rows_ids_are_logged_when_the_request_carried_them(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3")
    log.record(np.zeros((2, 23)), np.array([0.1, 0.9]), np.array([0, 1]), [17, 18])
    log.record(np.zeros((1, 23)), np.array([0.4]), np.array([0]), ["A-9"])
    log.close()
    assert [(row["id"], row["probability"]) for row in read(tmp_path, 0)] == [(17, 0.1), (18, 0.9), ("A-9", 0.4)]


def test_sampling_logs_about_the_requested_share(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3", sample_rate=0.2)
    for _ in range(1000):
        log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    assert 120 <= len(list(read(tmp_path, 0))) <= 280


def test_files_rotate_and_stay_bounded(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3", total_bytes=20_000)
    for _ in range(300):
        log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    files = list(tmp_path.iterdir())
    assert len(files) > 1
    assert all(path.stat().st_size <= log.max_bytes for path in files)
    assert sum(path.stat().st_size for path in files) <= 20_000 + log.max_bytes


def test_the_cap_covers_every_process_and_every_earlier_one(tmp_path: Path) -> None:
    # Given files left by processes that are gone (an earlier rollout), older than anything new
    for number in range(6):
        stale = tmp_path / "green" / f"requests-{number}.jsonl.1"
        stale.parent.mkdir(exist_ok=True)
        stale.write_bytes(b"x" * 10_000)
        os.utime(stale, (time.time() - 3600 + number, time.time() - 3600 + number))
    # When two deployments log into the same endpoint folder under a cap of 30 kB
    blue = RequestLog(tmp_path, "blue", "3", total_bytes=30_000)
    green = RequestLog(tmp_path, "green", "4", total_bytes=30_000)
    for _ in range(200):
        blue.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
        green.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    blue.close()
    green.close()
    # Then the oldest went first and the folder stays near the cap, whoever wrote it
    remaining = [path for path in tmp_path.rglob("requests-*") if path.is_file()]
    assert not any(path.name.startswith("requests-0") for path in remaining)
    assert sum(path.stat().st_size for path in remaining) <= 30_000 + 2 * blue.max_bytes
    assert {row["deployment"] for row in read(tmp_path, 0)} == {"blue", "green"}


def test_old_rows_are_left_out(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3")
    log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    assert list(read(tmp_path, time.time() + 1)) == []


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_logged_rows_are_readable_by_their_owner_only_rotated_files_too(tmp_path: Path) -> None:
    folder = tmp_path / "endpoint" / "requests"
    log = RequestLog(folder, "blue", "3", total_bytes=40_000)
    for _ in range(300):
        log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    assert _mode(folder) == 0o700
    files = list(folder.iterdir())
    assert len(files) > 2  # rotated
    assert {_mode(path) for path in files} == {0o600}


def test_an_older_versions_open_log_is_narrowed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    old = tmp_path / "requests-blue-1.jsonl.1"
    old.write_bytes(b"")
    old.chmod(0o644)
    RequestLog(tmp_path, "blue", "3").close()
    assert _mode(tmp_path) == 0o700
    assert {_mode(path) for path in tmp_path.iterdir()} == {0o600}


def test_a_folder_holding_other_things_keeps_its_mode_and_the_logs_are_still_private(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "notes.txt").write_text("not ours")
    RequestLog(tmp_path, "blue", "3").close()
    assert _mode(tmp_path) == 0o755
    assert _mode(next(tmp_path.glob("requests-*"))) == 0o600
