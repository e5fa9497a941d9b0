"""Kept drift checks for the history tests: real reports of tiny seeded traffic, written as `monitor drift`
writes them."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from creditops.config.environments import MonitoringSettings
from creditops.data.contract import uci
from creditops.data.synth import synthesize
from creditops.files import write_json
from creditops.monitoring.drift import DriftReport, compare
from creditops.monitoring.history import DriftSummary, stamp, summarize

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
COLUMNS = (uci().request_columns, uci().coded_columns)
_REFERENCE = uci().encoded(synthesize(800, 1), uci().request_columns)


def report(seed: int, drift: str = "none", live_rate: float = 0.22) -> DriftReport:
    """The drift of 300 live rows (seed `seed`, drift kind `drift`) against 800 reference rows."""
    live = uci().encoded(synthesize(300, seed, drift), uci().request_columns)
    return compare(_REFERENCE, live, np.full(800, 0.22), np.full(300, live_rate), MonitoringSettings(), *COLUMNS)


def keep(folder: Path, env: str, hours: float, version: str, drift: DriftReport) -> DriftSummary:
    """Write the summary of a check `hours` after START, as `check_drift` does."""
    at = stamp(START + timedelta(hours=hours))
    page = folder / f"drift-{env}-{at}.html"
    summary = summarize(drift, at, version, page)
    write_json(page.with_suffix(".json"), summary.model_dump(mode="json"))
    return summary


def keep_old(folder: Path, env: str, hours: float, version: str) -> Path:
    """A summary as creditops kept them before the per-feature figures: no thresholds, no features."""
    at = stamp(START + timedelta(hours=hours))
    return write_json(
        folder / f"drift-{env}-{at}.json",
        {
            "at": at,
            "drifted": True,
            "rows": 250,
            "drifted_features": ["PAY_0"],
            "reference_default_rate": 0.22,
            "live_default_rate": 0.31,
            "model_version": version,
            "page": str(folder / f"drift-{env}-{at}.html"),
        },
    )
