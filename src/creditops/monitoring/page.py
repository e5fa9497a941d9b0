"""The drift page: one self-contained HTML file with a summary, the table and a plot per feature.

Codes (SEX, EDUCATION, MARRIAGE, PAY_*) are drawn as bars per code; amounts as the share of rows in
each reference decile (an amount's spread is too wide for a linear histogram); AGE as a histogram.
Reference and live are always side by side, with a legend, drifted features first.
"""

import base64
import html
import io
import itertools
import warnings
from pathlib import Path
from typing import Any, Final

import numpy as np

from creditops.files import write_text
from creditops.monitoring.drift import DriftReport, FeatureDrift

REFERENCE: Final = ("#718096", "reference (training)")
LIVE: Final = ("#c53030", "live")
LEVEL_ORDER: Final = {"drift": 0, "watch": 1, "stable": 2}
STYLE: Final = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}"
    "td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
    "{text-align:left}tr.drift{background:#fde2e2}tr.watch{background:#fef6d8}"
    ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px}"
    "figure{margin:0}figcaption{font-size:.85em;color:#4a5568}.summary{font-size:1.15em}"
)
MISSING_GLYPH: Final = r"Glyph \d+ .*missing from (current )?font"
"""matplotlib's UserWarning for each character its font cannot draw (a feature named in another script): the
page still shows the name in its tables and captions, so the warning is only noise on every check."""


def render(report: DriftReport, reference: np.ndarray, live: np.ndarray, title: str, path: Path) -> Path:
    """Write the page; images are embedded, so it opens offline."""
    thresholds = report.thresholds
    ordered = sorted(
        ((report.columns.index(item.feature), item) for item in report.features),
        key=lambda pair: (LEVEL_ORDER[pair[1].level(thresholds)], -pair[1].psi),
    )
    rows = "".join(
        f"<tr class='{item.level(thresholds)}'><td>{item.feature}</td><td>{item.psi:.3f}</td><td>{item.test}</td>"
        f"<td>{_p(item.p_value)}</td><td>{item.level(thresholds)}</td></tr>"
        for _, item in ordered
    )
    plots = "".join(
        _figure(item, item.level(thresholds), reference[:, position], live[:, position]) for position, item in ordered
    )
    verdict = "drift" if report.drifted else "no drift"
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}: {verdict}</h1>"
        f"<p class='summary'>{html.escape(report.summary())}.</p>"
        f"<p>{report.rows:,} live rows against {report.reference_rows:,} reference rows. A feature drifts when its"
        f" PSI is over {thresholds.psi:g} and its test's p-value under {thresholds.p_value:g}; it is watched when"
        f" its PSI is over {0.4 * thresholds.psi:.2g} without drifting. The mean predicted probability of default"
        f" may move ±{100 * thresholds.default_rate_shift:.1f} percentage points.</p>"
        "<table><tr><th>feature</th><th>PSI</th><th>test</th><th>p-value</th><th>level</th></tr>"
        f"{rows}</table><h2>Reference and live distributions</h2><div class='plots'>{plots}</div></body></html>"
    )
    return write_text(path, page)


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _figure(item: FeatureDrift, level: str, reference: np.ndarray, live: np.ndarray) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2, 2.8), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    name, psi = item.feature, item.psi
    reference, live = reference[~np.isnan(reference)], live[~np.isnan(live)]
    if item.categorical:
        labels, shares = _code_shares(reference, live)
        kind = "share of rows per code"
    else:
        labels, shares = _decile_shares(reference, live)
        kind = "share of rows per reference decile"
    _bars(axes, labels, shares)
    axes.set_title(f"{name} — {level} (PSI {psi:.3f})", fontsize=10)
    axes.set_ylabel(kind, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, frameon=False)
    return embedded(figure, f"{name}: {kind}, reference against live; {level}, PSI {psi:.3f}")


def embedded(figure: Any, alt: str) -> str:
    """A matplotlib figure as an inline PNG with `alt` as its text and caption: the page opens offline.

    Characters the font lacks are drawn as boxes without a warning each; every other warning still shows.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # text is laid out, and the glyphs looked up, only when the figure is drawn
        warnings.filterwarnings("ignore", message=MISSING_GLYPH, category=UserWarning)
        figure.tight_layout()
        figure.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return (
        f"<figure><img alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,{encoded}'>"
        f"<figcaption>{html.escape(alt)}</figcaption></figure>"
    )


def _bars(axes: Any, labels: list[str], shares: tuple[np.ndarray, np.ndarray]) -> None:
    positions = np.arange(len(labels))
    for offset, values, (colour, label) in ((-0.2, shares[0], REFERENCE), (0.2, shares[1], LIVE)):
        axes.bar(positions + offset, values, width=0.4, color=colour, label=label)
    axes.set_xticks(
        positions, labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center"
    )
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")


def _code_shares(reference: np.ndarray, live: np.ndarray) -> tuple[list[str], tuple[np.ndarray, np.ndarray]]:
    codes = np.unique(np.concatenate([reference, live]))
    return [f"{code:g}" for code in codes], (
        np.array([np.mean(reference == code) for code in codes]),
        np.array([np.mean(live == code) for code in codes]),
    )


def _decile_shares(reference: np.ndarray, live: np.ndarray) -> tuple[list[str], tuple[np.ndarray, np.ndarray]]:
    cuts = np.unique(np.quantile(reference, np.linspace(0, 1, 11)[1:-1]))
    return interval_labels(cuts), (_shares(reference, cuts), _shares(live, cuts))


def interval_labels(cuts: np.ndarray) -> list[str]:
    """Each bin's true interval, as `_shares` fills it (a value equal to a cut goes to the bin above):
    "< 0", "0 to < 120", …, "≥ 5k"."""
    if not len(cuts):
        return ["all"]
    middle = [f"{_amount(low)} to < {_amount(high)}" for low, high in itertools.pairwise(cuts)]
    return [f"< {_amount(cuts[0])}", *middle, f"≥ {_amount(cuts[-1])}"]


def _shares(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(cuts, values, side="right"), minlength=len(cuts) + 1)
    return counts / max(1, len(values))


def _amount(value: float) -> str:
    """12,345 → 12k; 1,500,000 → 1.5M: tick labels that never run together."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if size >= 1_000:
        return f"{value / 1_000:.3g}k"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"
