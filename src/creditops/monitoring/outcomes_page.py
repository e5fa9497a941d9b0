"""The outcomes page: how the production model did on the outcomes observed, beside its test-time figures."""

import html
from pathlib import Path

from creditops.files import write_text
from creditops.monitoring.page import STYLE, embedded
from creditops.monitoring.performance import Joined, PerformanceReport


def render(report: PerformanceReport, joined: Joined, title: str, path: Path) -> Path:
    """Write the page (figures, how the outcomes were joined, calibration), atomically."""
    verdict = "below the minimum" if report.degraded else "holding"
    figures = "".join(
        f"<tr class='{'drift' if figure.name == 'ROC AUC' and report.degraded else ''}'><td>{figure.name}</td>"
        f"<td>{figure.value:.4f}</td><td>{figure.low:.4f} – {figure.high:.4f}</td>"
        f"<td>{'—' if figure.at_test is None else f'{figure.at_test:.4f}'}</td></tr>"
        for figure in report.figures
    )
    others = ", ".join(f"version {name}: {count:,}" for name, count in sorted(joined.other_versions.items()))
    dates = f" observed {joined.observed_from} to {joined.observed_to}" if joined.observed_from else ""
    bins = "".join(
        f"<tr><td>{number}</td><td>{predicted:.1%}</td><td>{observed:.1%}</td><td>{rows:,}</td></tr>"
        for number, (predicted, observed, rows) in enumerate(report.calibration, start=1)
    )
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}: {verdict}</h1>"
        f"<p class='summary'>{html.escape(report.summary())}.</p>"
        f"<p>{joined.outcomes:,} outcomes in the file{dates}; {report.rows:,} met a logged prediction of model"
        f" version {html.escape(joined.model_version)} (the latest prediction of each ID);"
        f" {joined.unmatched:,} had none in the window"
        + (f"; left out, predicted by other versions: {html.escape(others)}" if others else "")
        + ". Intervals: 95 % Poisson bootstrap, 300 resamples. 'At test time': the figures registered with the"
        " version, on its training data's holdout.</p>"
        "<table><tr><th>figure</th><th>on outcomes</th><th>95 % interval</th><th>at test time</th></tr>"
        f"{figures}</table><h2>Calibration</h2><p>Outcomes in ten equal groups by predicted probability: a"
        " calibrated model's observed default rate matches what it predicted (the diagonal).</p>"
        f"{_calibration_plot(report)}<table><tr><th>decile</th><th>mean predicted</th><th>observed</th>"
        f"<th>rows</th></tr>{bins}</table></body></html>"
    )
    return write_text(path, page)


def _calibration_plot(report: PerformanceReport) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.6, 4.2), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    predicted = [item[0] for item in report.calibration]
    observed = [item[1] for item in report.calibration]
    top = max(0.05, *predicted, *observed) * 1.05
    axes.plot([0, top], [0, top], color="#718096", linestyle="--", label="calibrated")
    axes.plot(predicted, observed, marker="o", color="#c53030", label="production model")
    axes.set(xlim=(0, top), ylim=(0, top), xlabel="mean predicted probability", ylabel="observed default rate")
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.legend(fontsize=8, frameon=False)
    worst = max(report.calibration, key=lambda item: abs(item[0] - item[1]))
    return embedded(
        figure,
        f"Calibration by decile of predicted probability; the largest gap: predicted {worst[0]:.1%},"
        f" observed {worst[1]:.1%}",
    )
