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


def test_sampling_logs_about_the_requested_share(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3", sample_rate=0.2)
    for _ in range(1000):
        log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    assert 120 <= len(list(read(tmp_path, 0))) <= 280


def test_files_rotate_and_stay_bounded(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3", max_bytes=5_000, backups=2)
    for _ in range(200):
        log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    files = list(tmp_path.iterdir())
    assert len(files) == 3
    assert all(path.stat().st_size <= 5_000 for path in files)


def test_old_rows_are_left_out(tmp_path: Path) -> None:
    log = RequestLog(tmp_path, "blue", "3")
    log.record(np.zeros((1, 23)), np.array([0.5]), np.array([1]))
    log.close()
    assert list(read(tmp_path, time.time() + 1)) == []
