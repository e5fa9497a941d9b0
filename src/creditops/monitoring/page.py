"""The drift page: one self-contained HTML file with the table and a plot per feature."""

import base64
import html
import io
from pathlib import Path

import numpy as np

from creditops.data.schema import FEATURES
from creditops.files import write_text
from creditops.monitoring.drift import DriftReport


def render(report: DriftReport, reference: np.ndarray, live: np.ndarray, title: str, path: Path) -> Path:
    """Write the page; images are embedded, so it opens offline."""
    rows = "".join(
        f"<tr class='{'drift' if item.drifted else ''}'><td>{item.feature}</td><td>{item.psi:.3f}</td>"
        f"<td>{item.test}</td><td>{item.p_value:.2g}</td><td>{'yes' if item.drifted else 'no'}</td></tr>"
        for item in report.features
    )
    images = (_histogram(reference[:, i], live[:, i], name) for i, name in enumerate(FEATURES))
    plots = "".join(
        f"<figure><img alt='{name}' src='data:image/png;base64,{image}'></figure>"
        for name, image in zip(FEATURES, images, strict=True)
    )
    verdict = "drift" if report.drifted else "no drift"
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{padding:4px 10px;
border-bottom:1px solid #ddd}}tr.drift{{background:#fde2e2}}figure{{display:inline-block;margin:4px}}</style>
</head><body><h1>{html.escape(title)}: {verdict}</h1>
<p>{report.rows:,} live rows vs {report.reference_rows:,} reference rows. Predicted default rate
{report.reference_rate:.1%} → {report.live_rate:.1%} (shift {report.rate_shift:+.1%}, threshold
±{report.thresholds.default_rate_shift:.0%}). A feature drifts when PSI &gt; {report.thresholds.psi} and the
test's p-value &lt; {report.thresholds.p_value}.</p>
<table><tr><th>feature</th><th>PSI</th><th>test</th><th>p-value</th><th>drift</th></tr>{rows}</table>
<h2>Reference (grey) and live (red) distributions</h2>{plots}</body></html>"""
    return write_text(path, page)


def _histogram(reference: np.ndarray, live: np.ndarray, name: str) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.2, 2.2), dpi=80)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    bins = np.histogram_bin_edges(np.concatenate([reference, live]), bins=30)
    axes.hist(reference, bins=list(bins), density=True, color="grey", alpha=0.6)
    axes.hist(live, bins=list(bins), density=True, color="tab:red", alpha=0.5)
    axes.set_title(name, fontsize=9)
    axes.tick_params(labelsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode()
