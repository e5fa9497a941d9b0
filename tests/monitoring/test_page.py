"""The drift page: a summary line, levels, drifted features first, a plot per feature of the right kind."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from creditops.config.environments import MonitoringSettings
from creditops.data.contract import uci
from creditops.data.synth import synthesize
from creditops.monitoring.drift import compare
from creditops.monitoring.page import MISSING_GLYPH, _amount, _decile_shares, embedded, interval_labels, render


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


def test_amounts_are_labelled_compactly_and_fractions_keep_their_digits() -> None:
    assert [_amount(v) for v in (0.5, 12.25, -0.125)] == ["0.5", "12.25", "-0.125"]


def test_each_amount_bin_is_labelled_with_its_true_interval() -> None:
    # A value equal to a cut belongs to the bin above it: the labels say so
    assert interval_labels(np.array([0.0, 120.0, 5_000.0])) == ["< 0", "0 to < 120", "120 to < 5k", "≥ 5k"]
    assert interval_labels(np.array([])) == ["all"]


def test_zero_lands_in_a_bin_whose_label_contains_it_on_an_amount_with_many_zeros() -> None:
    # Given a PAY_AMT2-like column where a fifth of the rows are 0
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"PAY_AMT2": np.where(rng.random(5_000) < 0.2, 0.0, rng.integers(1, 20_000, 5_000))})
    values = frame["PAY_AMT2"].to_numpy(dtype=float)
    # When its reference deciles are drawn
    labels, (reference, _live) = _decile_shares(values, values)
    # Then the bin holding the zeros says it holds 0, and holds at least their share
    zeros = float(np.mean(values == 0))
    assert zeros > 0.15
    assert (labels[0], reference[0]) == ("< 0", 0)
    assert labels[1].startswith("0 to < ")
    assert reference[1] >= zeros
    assert "≤0" not in labels
    assert abs(reference.sum() - 1) < 1e-9


def test_a_missing_glyph_is_drawn_without_a_warning_and_other_warnings_still_show() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    FigureCanvasAgg(figure)
    figure.subplots().set_title("収入 — 年齢")
    save = figure.savefig

    def save_with_another_warning(*args: object, **kwargs: object) -> None:
        warnings.warn("another warning while drawing", UserWarning, stacklevel=1)
        save(*args, **kwargs)

    figure.savefig = save_with_another_warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert embedded(figure, "収入").startswith("<figure><img alt='収入'")
    assert [str(item.message) for item in caught] == ["another warning while drawing"]
    # the forms matplotlib words it in, and nothing wider
    assert re.match(MISSING_GLYPH, "Glyph 21454 (\\N{CJK UNIFIED IDEOGRAPH-53CE}) missing from font(s) DejaVu Sans.")
    assert re.match(MISSING_GLYPH, "Glyph 21454 (\\N{CJK UNIFIED IDEOGRAPH-53CE}) missing from current font.")
    assert not re.match(MISSING_GLYPH, "Tight layout not applied")
