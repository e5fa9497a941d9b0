"""The drift history: kept summaries read back in time order; old and unreadable files; `monitor history`."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from creditops.cli import main
from creditops.config.environments import MonitoringSettings
from creditops.context import from_process
from creditops.files import read_json, write_json
from creditops.monitoring.history import DriftSummary, read_history
from creditops.views import drift_history_table

from .history_checks import keep, keep_old, report


def test_a_kept_summary_holds_every_features_figures_and_the_thresholds(tmp_path: Path) -> None:
    drifted = report(12, "delinquency", live_rate=0.33)
    summary = keep(tmp_path, "dev", 1, "3", drifted)
    (path,) = tmp_path.glob("drift-dev-*.json")
    kept = read_json(path)
    assert list(kept)[:8] == [  # the keys `status` and scripts read stay first, unchanged
        "at",
        "drifted",
        "rows",
        "drifted_features",
        "reference_default_rate",
        "live_default_rate",
        "model_version",
        "page",
    ]
    assert kept["thresholds"] == {"psi": 0.25, "p_value": 0.01, "default_rate_shift": 0.05, "min_rows": 200}
    assert {item["feature"] for item in kept["features"]} == {item.feature for item in drifted.features}
    pay_0 = next(item for item in kept["features"] if item["feature"] == "PAY_0")
    figures = next(item for item in drifted.features if item.feature == "PAY_0")
    assert (pay_0["psi"], pay_0["p_value"], pay_0["drifted"]) == (figures.psi, figures.p_value, True)
    assert DriftSummary.model_validate(kept) == summary


def test_checks_are_ordered_by_their_time_not_by_file_name(tmp_path: Path) -> None:
    # Given three checks written out of order, one copied under a name that sorts last
    keep(tmp_path, "dev", 5, "1", report(3))
    keep(tmp_path, "dev", 1, "1", report(4))
    early = keep(tmp_path, "dev", 0, "1", report(5))
    (tmp_path / f"drift-dev-{early.at}.json").rename(tmp_path / "drift-dev-zz-copied.json")
    # When the history is read
    history = read_history(tmp_path, "dev")
    # Then it runs oldest first, with no note
    assert [check.checked_at.hour for check in history.checks] == [8, 9, 13]
    assert history.notes == ()


def test_only_the_environments_drift_summaries_are_read(tmp_path: Path) -> None:
    keep(tmp_path, "dev", 0, "1", report(3))
    keep(tmp_path, "prod", 1, "1", report(4))
    write_json(tmp_path / "outcomes-dev-20261201T090000.000000.json", {"at": "x"})
    assert len(read_history(tmp_path, "dev").checks) == 1
    assert read_history(tmp_path / "absent", "dev").checks == ()


def test_an_old_summary_without_feature_figures_is_read_and_adds_no_feature_points(tmp_path: Path) -> None:
    keep_old(tmp_path, "dev", 0, "1")
    keep(tmp_path, "dev", 1, "1", report(3))
    history = read_history(tmp_path, "dev")
    old, new = history.checks
    assert (old.features, old.thresholds, old.top) == (None, None, None)
    assert old.drifted_features == ("PAY_0",)
    assert history.without_figures == (old,)
    assert history.features == tuple(item.feature for item in new.features or ())
    assert history.psi("PAY_0")[0] is None
    assert history.psi("PAY_0")[1] is not None
    note = history.figures_note()
    assert note is not None
    assert note.startswith("1 of 2 checks (2026-12-01 08:00:00 UTC) were kept before per-feature figures")
    assert note.endswith("they add no feature points")
    assert history.notes == ()


def test_a_corrupt_file_is_named_in_one_line_and_the_others_are_read(tmp_path: Path) -> None:
    keep(tmp_path, "dev", 0, "1", report(3))
    (tmp_path / "drift-dev-broken.json").write_text('{"at": "2026')
    (tmp_path / "drift-dev-list.json").write_text("[1, 2]")
    (tmp_path / "drift-dev-binary.json").write_bytes(b"\xff\xfe\x00garbage")
    good = read_json(next(tmp_path.glob("drift-dev-2*.json")))
    write_json(tmp_path / "drift-dev-no-rows.json", {**good, "rows": "many"})
    write_json(tmp_path / "drift-dev-bad-time.json", {**good, "at": "noon"})
    (tmp_path / "drift-dev-folder.json").mkdir()
    history = read_history(tmp_path, "dev")
    assert len(history.checks) == 1
    named = (note.removeprefix("skipped ").split(": ", 1) for note in history.notes)
    notes = {Path(path).name: reason for path, reason in named}
    assert set(notes) == {
        "drift-dev-broken.json",
        "drift-dev-list.json",
        "drift-dev-binary.json",
        "drift-dev-no-rows.json",
        "drift-dev-bad-time.json",
        "drift-dev-folder.json",
    }
    assert notes["drift-dev-broken.json"].startswith("not JSON (Unterminated string")
    assert notes["drift-dev-list.json"].startswith("not a drift summary")
    assert notes["drift-dev-binary.json"] == "not text (undecodable bytes)"
    assert notes["drift-dev-no-rows.json"].startswith("not a drift summary: rows: Input should be a valid integer")
    assert notes["drift-dev-bad-time.json"].startswith("not a drift summary: at: Value error")
    assert all("\n" not in note for note in history.notes)


def test_a_new_model_version_is_marked_on_the_check_that_first_scored_it(tmp_path: Path) -> None:
    for hours, version in enumerate(("1", "1", "2", "2", "1")):
        keep(tmp_path, "dev", hours, version, report(3 + hours))
    history = read_history(tmp_path, "dev")
    assert [history.new_version(position) for position in range(5)] == [False, False, True, False, True]
    assert [item["new_version"] for item in history.as_dict()["checks"]] == [False, False, True, False, True]


def test_the_json_form_has_stable_keys_and_the_top_psi(tmp_path: Path) -> None:
    keep_old(tmp_path, "dev", 0, "1")
    drifted = report(12, "delinquency", live_rate=0.33)
    keep(tmp_path, "dev", 1, "2", drifted)
    found = read_history(tmp_path, "dev").as_dict()
    assert set(found) == {"environment", "checks", "notes"}
    old, new = found["checks"]
    assert old["top_psi"] is None
    assert old["features"] is None
    top = max(drifted.features, key=lambda item: item.psi)
    assert new["top_psi"] == {"feature": top.feature, "psi": top.psi}
    assert new["live_default_rate"] == 0.33
    assert len(found["notes"]) == 1
    json.dumps(found)  # serializable as it is


@pytest.fixture
def dev_monitoring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dev's monitoring folder in a fresh creditops home (the built-in environment files)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("CREDITOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return from_process("dev").monitoring_dir


def test_monitor_history_with_no_checks_says_how_to_make_one(
    dev_monitoring: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["monitor", "history", "--env", "dev"]) == 0
    assert capsys.readouterr().out == ("no drift checks kept for dev yet; run 'creditops monitor drift --env dev'\n")
    assert main(["monitor", "history", "--env", "dev", "--output", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"environment": "dev", "checks": [], "notes": [], "page": None}
    assert "no drift checks kept for dev yet" in captured.err
    assert not (dev_monitoring / "drift-history-dev.html").exists()


def test_monitor_history_prints_the_checks_and_writes_the_page(
    dev_monitoring: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep_old(dev_monitoring, "dev", 0, "1")
    keep(dev_monitoring, "dev", 1, "1", report(3))
    keep(dev_monitoring, "dev", 2, "2", report(12, "delinquency", live_rate=0.33))
    (dev_monitoring / "drift-dev-broken.json").write_text("{")
    assert main(["monitor", "history", "--env", "dev"]) == 0
    captured = capsys.readouterr()
    page = dev_monitoring / "drift-history-dev.html"
    assert f"drift history page: {page}" in captured.out
    assert "drift history of dev: 3 checks" in captured.out
    assert "2 (new)" in captured.out
    assert "33.0%" in captured.out
    assert "note: 1 of 3 checks" in captured.out
    assert f"note: skipped {dev_monitoring / 'drift-dev-broken.json'}: not JSON" in captured.err
    assert "<h2>PSI across checks</h2>" in page.read_text()

    out = tmp_path / "elsewhere" / "history.html"
    assert main(["monitor", "history", "--env", "dev", "--output", "json", "--out", str(out)]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["page"] == str(out)
    assert out.is_file()
    assert [check["model_version"] for check in found["checks"]] == ["1", "1", "2"]
    assert found["checks"][2]["new_version"] is True
    assert found["checks"][2]["drifted"] is True
    assert "PAY_0" in found["checks"][2]["drifted_features"]
    assert len(found["notes"]) == 2


def test_thresholds_kept_are_the_ones_in_force(tmp_path: Path) -> None:
    from creditops.monitoring.drift import compare

    from .history_checks import _REFERENCE, COLUMNS

    strict = MonitoringSettings(psi=0.1, p_value=0.05, default_rate_shift=0.02, min_rows=50)
    live = _REFERENCE[:300]
    import numpy as np

    drift = compare(_REFERENCE, live, np.full(800, 0.2), np.full(300, 0.2), strict, *COLUMNS)
    summary = keep(tmp_path, "dev", 0, "1", drift)
    assert summary.thresholds is not None
    assert summary.thresholds.model_dump() == {"psi": 0.1, "p_value": 0.05, "default_rate_shift": 0.02, "min_rows": 50}


def _impossible(good: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Summaries that parse but hold figures no check can produce, by file name."""
    features = good["features"]
    nan_psi = [{**features[0], "psi": float("nan")}, *features[1:]]
    return {
        "drift-dev-nan-psi.json": {**good, "features": nan_psi},
        "drift-dev-inf-psi.json": {**good, "features": [{**features[0], "psi": float("inf")}]},
        "drift-dev-absurd-psi.json": {**good, "features": [{**features[0], "psi": 1e308}]},
        "drift-dev-nan-rate.json": {**good, "live_default_rate": float("nan")},
        "drift-dev-rate-over-1.json": {**good, "reference_default_rate": 1.5},
        "drift-dev-negative-rate.json": {**good, "live_default_rate": -0.1},
        "drift-dev-negative-rows.json": {**good, "rows": -5},
        "drift-dev-absurd-rows.json": {**good, "rows": 1e30},
        "drift-dev-p-over-1.json": {**good, "features": [{**features[0], "p_value": 2.0}]},
        "drift-dev-inf-threshold.json": {**good, "thresholds": {**good["thresholds"], "psi": float("-inf")}},
    }


def test_a_summary_with_impossible_figures_is_named_in_one_line_and_left_out(tmp_path: Path) -> None:
    keep(tmp_path, "dev", 0, "1", report(3))
    good = read_json(next(tmp_path.glob("drift-dev-2*.json")))
    for name, content in _impossible(good).items():
        (tmp_path / name).write_text(json.dumps(content))  # json writes NaN and Infinity as bare words
    history = read_history(tmp_path, "dev")
    assert len(history.checks) == 1
    named = (note.removeprefix("skipped ").split(": ", 1) for note in history.notes)
    notes = {Path(path).name: reason for path, reason in named}
    assert set(notes) == set(_impossible(good))
    assert notes["drift-dev-nan-psi.json"] == "not a drift summary: features.0.psi: Input should be a finite number"
    assert notes["drift-dev-nan-rate.json"] == "not a drift summary: live_default_rate: Input should be a finite number"
    assert notes["drift-dev-rate-over-1.json"].startswith("not a drift summary: reference_default_rate: Input should")
    assert notes["drift-dev-absurd-rows.json"].startswith("not a drift summary: rows:")
    assert notes["drift-dev-absurd-psi.json"].startswith("not a drift summary: features.0.psi: Input should be less")
    assert all("\n" not in note for note in history.notes)
    json.dumps(history.as_dict(), allow_nan=False)  # what is read is finite


def test_monitor_history_json_stays_valid_json_when_a_kept_summary_holds_nan(
    dev_monitoring: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep(dev_monitoring, "dev", 0, "1", report(3))
    good = read_json(next(dev_monitoring.glob("drift-dev-2*.json")))
    broken = {**good, "at": "20261201T090000.000000", "live_default_rate": float("nan")}
    (dev_monitoring / "drift-dev-20261201T090000.000000.json").write_text(json.dumps(broken))
    assert main(["monitor", "history", "--env", "dev", "--output", "json"]) == 0
    captured = capsys.readouterr()

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in the JSON output")

    found = json.loads(captured.out, parse_constant=refuse)
    assert len(found["checks"]) == 1
    assert "drift-dev-20261201T090000.000000.json: not a drift summary: live_default_rate" in captured.err
    assert "RuntimeWarning" not in captured.err


def test_the_table_gives_each_checks_verdict_even_without_a_drifted_feature(tmp_path: Path) -> None:
    keep(tmp_path, "dev", 0, "1", report(3))
    shifted = report(4, live_rate=0.40)  # the mean predicted probability moved; no feature did
    assert shifted.drifted
    assert not shifted.drifted_features
    keep(tmp_path, "dev", 1, "1", shifted)
    buffer = io.StringIO()
    Console(width=250, file=buffer).print(drift_history_table(read_history(tmp_path, "dev")))
    shown = buffer.getvalue()
    header = next(line for line in shown.splitlines() if "checked at" in line)
    calm, moved = [line for line in shown.splitlines() if "2026-12-01" in line]
    assert "verdict" in header
    assert [cell.strip() for cell in calm.split("│")][4:6] == ["no drift", "—"]
    assert [cell.strip() for cell in moved.split("│")][4:6] == ["drift", "—"]
