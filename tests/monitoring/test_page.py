"""The drift page: a summary line, levels, drifted features first, a plot per feature of the right kind."""

import re
from pathlib import Path

import numpy as np

from creditops.config.environments import MonitoringSettings
from creditops.data.contract import uci
from creditops.data.synth import synthesize
from creditops.monitoring.drift import compare
from creditops.monitoring.page import _amount, render


def _columns(frame):
    """The UCI request columns of a frame, as the request log keeps them."""
    return uci().encoded(frame, uci().request_columns)


_NAMES = (uci().request_columns, uci().coded_columns)


def test_the_page_leads_with_a_summary_and_draws_codes_amounts_and_age_each_their_way(tmp_path: Path) -> None:
    reference = _columns(synthesize(1_500, 1))
    live = _columns(synthesize(600, 2, drift="delinquency"))
    report = compare(reference, live, np.full(1_500, 0.22), np.full(600, 0.33), MonitoringSettings(), *_NAMES)
    page = render(report, reference, live, "Drift on ep (dev, model version 1)", tmp_path / "drift.html").read_text()
    assert f"<p class='summary'>{report.summary()}.</p>" in page
    levels = re.findall(r"<tr class='(drift|watch|stable)'>", page)
    assert len(levels) == 23
    assert levels == sorted(levels, key=["drift", "watch", "stable"].index)
    alts = re.findall(r"<img alt='([^']*)'", page)
    assert len(alts) == 23
    assert any(alt.startswith("PAY_0: share of rows per code") for alt in alts)
    assert any(alt.startswith("LIMIT_BAL: share of rows per reference decile") for alt in alts)
    assert any(alt.startswith("AGE: share of rows per reference decile") for alt in alts)
    assert "https://" not in page


def test_amounts_are_labelled_compactly() -> None:
    assert [_amount(v) for v in (0, 999, 12_345, 1_500_000, -20_000)] == ["0", "999", "12.3k", "1.5M", "-20k"]
