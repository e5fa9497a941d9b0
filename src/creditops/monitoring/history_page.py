"""The drift history page: one self-contained HTML file with the mean predicted probability of default over
time, each feature's PSI across checks against the threshold, and a feature × check table, drifted cells
marked. Model versions are named per check; a check that scored a new version is marked on every chart."""

import html
import os
from pathlib import Path
from typing import Any, Final

from creditops.files import write_text
from creditops.monitoring.history import DriftSummary, History
from creditops.monitoring.page import LIVE, REFERENCE, STYLE, embedded

TABLE_CHECKS: Final = 24
"""The feature × check table shows the newest checks only: past two dozen columns it no longer reads."""
VERSION: Final = "#2b6cb0"
HISTORY_STYLE: Final = (
    STYLE + "td.drift{background:#fde2e2;font-weight:600}td.none{color:#a0aec0}"
    ".new-version{border-left:3px solid #2b6cb0}.wide{overflow-x:auto}th small{font-weight:normal;color:#4a5568}"
    ".notes{color:#744210}"
)
RATE: Final = "mean predicted probability of default"


def render(history: History, title: str, path: Path) -> Path:
    """Write the page atomically; images are embedded, so it opens offline."""
    checks = history.checks
    notes = [*history.notes, *filter(None, [history.figures_note()])]
    shown = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    head = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{HISTORY_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
    )
    notes_list = f"<ul class='notes'>{shown}</ul>" if shown else ""
    if not checks:
        return write_text(path, f"{head}<p class='summary'>No drift checks kept yet.</p>{notes_list}</body></html>")
    features = _ordered_features(history)
    plots = "".join(_psi_figure(history, feature) for feature in features)
    page = (
        f"{head}<p class='summary'>{html.escape(_summary(history))}</p>{notes_list}"
        f"<h2>Mean predicted probability of default over time</h2>{_rate_figure(history)}"
        f"<h2>PSI across checks</h2><p>{_psi_text(history)}</p>"
        f"<div class='plots'>{plots}</div>"
        f"<h2>Feature × check</h2>{_feature_table(history, features)}"
        f"<h2>Checks</h2>{_checks_table(history, path)}</body></html>"
    )
    return write_text(path, page)


def _summary(history: History) -> str:
    checks = history.checks
    latest = checks[-1]
    versions = " → ".join(dict.fromkeys(check.model_version for check in checks))
    verdict = "drift" if latest.drifted else "no drift"
    drifted = f" ({', '.join(latest.drifted_features)})" if latest.drifted_features else ""
    return (
        f"{len(checks)} check{'s' if len(checks) != 1 else ''} from {checks[0].when} to {latest.when} UTC;"
        f" model version{'s' if '→' in versions else ''} {versions}. The latest: {verdict}{drifted};"
        f" {RATE} {latest.live_default_rate:.1%} against the reference's {latest.reference_default_rate:.1%}."
    )


def _psi_text(history: History) -> str:
    limits = sorted({check.thresholds.psi for check in history.checks if check.thresholds is not None})
    threshold = " or ".join(f"{value:g}" for value in limits) or "the threshold"
    return (
        f"One chart per feature, most often drifted first: its PSI in each check (numbered as in the tables),"
        f" the PSI threshold {threshold} dashed, drifted checks in red (PSI over the threshold and the test's"
        " p-value under its own), a new model version as a dotted line."
    )


def _ordered_features(history: History) -> list[str]:
    def weight(feature: str) -> tuple[int, float]:
        found = [check.figures(feature) for check in history.checks]
        figures = [item for item in found if item is not None]
        return (-sum(item.drifted for item in figures), -max(item.psi for item in figures))

    return sorted(history.features, key=weight)


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=90)
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _rate_figure(history: History) -> str:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    checks = history.checks
    figure, axes = _figure((9.0, 3.4))
    times = [check.checked_at for check in checks]
    reference = [check.reference_default_rate for check in checks]
    banded = [
        (time, check.reference_default_rate, check.thresholds.default_rate_shift)
        for time, check in zip(times, checks, strict=True)
        if check.thresholds is not None
    ]
    if banded:
        axes.fill_between(
            [item[0] for item in banded],
            [item[1] - item[2] for item in banded],
            [item[1] + item[2] for item in banded],
            step="post",
            color=REFERENCE[0],
            alpha=0.15,
            linewidth=0,
            label="allowed shift",
        )
    axes.plot(
        times, reference, drawstyle="steps-post", marker="_", markersize=12, color=REFERENCE[0], label=REFERENCE[1]
    )
    axes.plot(times, [check.live_default_rate for check in checks], marker="o", color=LIVE[0], label=LIVE[1])
    for position, (time, check) in enumerate(zip(times, checks, strict=True)):
        if position == 0 or history.new_version(position):
            if position:
                axes.axvline(time, color=VERSION, linestyle=":", linewidth=1.2)
            axes.annotate(
                f"version {check.model_version}",
                (time, 1),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                va="top",
                fontsize=8,
                color=VERSION,
            )
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]  # matplotlib.dates is not annotated
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.set_ylabel(RATE, fontsize=8)
    axes.set_xlabel("check time (UTC)", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, frameon=False, loc="lower left")
    latest = checks[-1]
    changes = sum(history.new_version(position) for position in range(len(checks)))
    return embedded(
        figure,
        f"The {RATE} in each of {len(checks)} checks against the reference's (training);"
        f" the latest {latest.live_default_rate:.1%} against {latest.reference_default_rate:.1%};"
        f" {changes} model version change{'s' if changes != 1 else ''} marked",
    )


def _psi_figure(history: History, feature: str) -> str:
    from matplotlib.ticker import MaxNLocator

    figure, axes = _figure((4.2, 2.6))
    points = [(number, check.figures(feature), check) for number, check in enumerate(history.checks, start=1)]
    kept = [(number, figures) for number, figures, _ in points if figures is not None]
    limits = [(number, check.thresholds.psi) for number, _, check in points if check.thresholds is not None]
    axes.plot([n for n, _ in kept], [item.psi for _, item in kept], marker="o", markersize=3, color="#2d3748")
    drifted = [(number, item.psi) for number, item in kept if item.drifted]
    if drifted:
        axes.scatter(*zip(*drifted, strict=True), color=LIVE[0], zorder=3, s=24, label="drifted")
    drawn = {"color": LIVE[0], "linestyle": "--", "linewidth": 1, "label": "PSI threshold"}
    if len({value for _, value in limits}) == 1:
        axes.axhline(limits[0][1], **drawn)
    elif limits:  # the threshold changed between checks: each check's own
        axes.plot([n for n, _ in limits], [value for _, value in limits], drawstyle="steps-mid", **drawn)
    for position in range(1, len(history.checks)):
        if history.new_version(position):
            axes.axvline(position + 0.5, color=VERSION, linestyle=":", linewidth=1.2)
    axes.set_xlim(0.5, len(history.checks) + 0.5)
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    latest = kept[-1][1]
    axes.set_title(f"{feature} — latest PSI {latest.psi:.3f}", fontsize=10)
    axes.set_xlabel("check", fontsize=8)
    axes.set_ylabel("PSI", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, frameon=False)
    threshold = f" against the threshold {limits[-1][1]:g}" if limits else ""
    return embedded(
        figure,
        f"{feature}: PSI in {len(kept)} checks{threshold}; drifted in {len(drifted)}; the latest {latest.psi:.3f}",
    )


def _feature_table(history: History, features: list[str]) -> str:
    first = max(0, len(history.checks) - TABLE_CHECKS)
    columns = list(enumerate(history.checks))[first:]
    header = "".join(
        f"<th{_version_class(history, position)}>#{position + 1}<br><small>{check.when}</small><br>"
        f"<small>version {html.escape(check.model_version)}{' (new)' if history.new_version(position) else ''}"
        f"{'<br>no figures kept' if check.features is None else ''}</small></th>"
        for position, check in columns
    )
    rows = "".join(
        f"<tr><td>{html.escape(feature)}</td>"
        + "".join(_cell(history, position, check, feature) for position, check in columns)
        + "</tr>"
        for feature in features
    )
    shown = f"the newest {len(columns)} of {len(history.checks)} checks" if first else "every check"
    return (
        f"<p>Each feature's PSI, {shown}; a drifted cell is marked ● and shaded; — where the check kept no"
        " figure for the feature.</p>"
        f"<div class='wide'><table><tr><th>feature</th>{header}</tr>{rows}</table></div>"
    )


def _cell(history: History, position: int, check: DriftSummary, feature: str) -> str:
    figures = check.figures(feature)
    extra = " new-version" if history.new_version(position) else ""
    if figures is None:
        return f"<td class='none{extra}'>—</td>"
    if figures.drifted:
        return (
            f"<td class='drift{extra}' title='drifted: p-value {figures.p_value:.3g} ({html.escape(figures.test)})'>"
            f"{figures.psi:.3f} ●</td>"
        )
    return f"<td{_version_class(history, position)}>{figures.psi:.3f}</td>"


def _version_class(history: History, position: int) -> str:
    return " class='new-version'" if history.new_version(position) else ""


def _checks_table(history: History, path: Path) -> str:
    rows = []
    for position, check in enumerate(history.checks):
        top = check.top
        version = html.escape(check.model_version) + (" (new)" if history.new_version(position) else "")
        drifted = ", ".join(check.drifted_features) or "—"
        rows.append(
            f"<tr class='{'drift' if check.drifted else ''}'><td>#{position + 1}</td><td>{check.when}</td>"
            f"<td>{version}</td><td>{check.rows:,}</td><td>{html.escape(drifted)}</td>"
            f"<td>{check.live_default_rate:.1%}</td><td>{check.reference_default_rate:.1%}</td>"
            f"<td>{'—' if top is None else f'{html.escape(top.feature)} {top.psi:.3f}'}</td>"
            f"<td>{_link(check.page, path)}</td></tr>"
        )
    return (
        "<table><tr><th>check</th><th>time (UTC)</th><th>model version</th><th>rows</th><th>drifted features</th>"
        f"<th>{RATE}</th><th>reference (training)</th><th>top PSI</th><th>page</th></tr>{''.join(rows)}</table>"
    )


def _link(page: str, path: Path) -> str:
    """A relative link to the check's own page (a local file, so the history opens offline with it)."""
    target = os.path.relpath(page, path.parent)
    return f"<a href='{html.escape(target, quote=True)}'>{html.escape(Path(page).name)}</a>"
