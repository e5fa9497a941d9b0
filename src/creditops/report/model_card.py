"""The model card: one self-contained HTML file (images embedded) to judge a model by looking at it."""

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from creditops.config.environments import GateSettings
from creditops.data.contract import Contract
from creditops.files import write_text
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.fairness import (
    ColumnFairness,
    Gap,
    difference_meets,
    fairness_report,
    protected_groups,
    ratio_meets,
)
from creditops.modelling.metrics import LOG_LOSS_EPSILON, bootstrap_card_metrics
from creditops.modelling.plots import draw_confusion_matrix
from creditops.tracking import names as tags

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
BOOTSTRAP_SAMPLES = 200
IMPORTANCE_ROWS = 2_000
SAMPLE_ROWS = 50_000
"""Above this many rows, the card's intervals, curves, tables, slices and champion comparison use a
seeded sample of this size (the card says so); the metric values and fairness figures always use every row."""
HEADLINE = ("ROC AUC", "PR AUC", "Brier score")
"""The metrics the summary states with their intervals (the Metrics section shows them all)."""


@dataclass(frozen=True)
class Summary:
    """What the card's first section says that only its builder knows; the renderer adds the learner, the
    headline metrics, the gate's verdict (from the evidence) and the rows."""

    model: str
    """The model and version: "credit_default_model version 7", "credit_default_model: candidate, not registered"."""
    date: str = ""
    """When it was trained or registered: "registered 2026-12-05 06:40 UTC"."""
    environments: tuple[tuple[str, str], ...] = ()
    """(environment, its state there) for each environment, as far as the builder's one store tells."""
    source: str = "the data given to the card"
    """Which data the figures come from: "the test split of data.csv (…)", "the data passed with --data …"."""


@dataclass(frozen=True)
class MetricValue:
    """One metric on every row and its bootstrap interval on the rows shown (None: no finite resample)."""

    name: str
    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CardInputs:
    """What the card shows: a model, the data it is judged on, and where it came from."""

    title: str
    model: TrainedModel
    data: pd.DataFrame
    threshold: float = 0.5
    lineage: dict[str, str] = field(default_factory=dict)
    champion: TrainedModel | None = None
    champion_label: str = ""
    evidence: Mapping[str, Any] | None = None
    probability: np.ndarray | None = None
    """The model's probabilities on `data` when the caller has them already (the pipeline's evaluation)."""
    gate: GateSettings = field(default_factory=GateSettings)
    """The limits the fairness figures are held to: the environment's gate settings."""
    status: str = ""
    """Where the version stands now (champion, rolled back / withdrawn, …); in the summary when given."""
    summary: Summary | None = None
    """The summary's model, date, environments and data source (None: the title, and nothing known)."""


def render(inputs: CardInputs, path: Path) -> Path:
    """Write the card to `path` (atomically). Columns are read through the model's own contract."""
    contract = inputs.model.contract
    features = contract.feature_matrix(inputs.data)
    labels = contract.labels(inputs.data)
    probability = inputs.model.predict_proba(features) if inputs.probability is None else inputs.probability
    if len(probability) != len(labels):
        raise ValueError(f"{len(probability)} probabilities for {len(labels)} rows")
    rows = _sample_rows(len(labels))
    data = inputs.data if rows is None else inputs.data.iloc[rows]
    shown = (features, labels, probability) if rows is None else (features[rows], labels[rows], probability[rows])
    values = _metric_values(labels, probability, inputs.threshold, shown[1], shown[2])
    sections = [
        _summary(inputs, values, labels),
        _data_summary(contract, features, labels),
        _sampled(len(labels)),
        _metrics(values, inputs.threshold),
        _curves(shown[1], shown[2], inputs.threshold),
        _threshold_table(shown[1], shown[2]),
        _slices(contract, data, shown[1], shown[2]),
        _fairness(contract, inputs.data, labels, probability, inputs.threshold, inputs.gate),
        _reviewed_table(inputs.model),
        _importance(inputs.model, shown[0], shown[1]),
        _contribution_view(inputs.model, shown[0]),
        _champion(inputs, data, shown[1], shown[2]),
        _lineage(inputs.lineage),
        _evidence(inputs.evidence),
    ]
    title = html.escape(inputs.title)
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
        f"</head><body><h1>{title}</h1>{''.join(sections)}</body></html>"
    )
    return write_text(path, page)


def _sample_rows(rows: int) -> np.ndarray | None:
    """A seeded sample of SAMPLE_ROWS row positions (sorted), or None when every row is used."""
    if rows <= SAMPLE_ROWS:
        return None
    return np.sort(np.random.default_rng(0).choice(rows, SAMPLE_ROWS, replace=False))


def _sampled(rows: int) -> str:
    if rows <= SAMPLE_ROWS:
        return ""
    return (
        f"<p><strong>Sampled.</strong> The metric values and the fairness figures use all {rows:,} rows (as"
        " the gate measures them); the intervals, curves, tables,"
        f" slices, importance and champion comparison use a seeded sample of {SAMPLE_ROWS:,} rows, so the"
        " intervals are those of the sample (wider than the whole's).</p>"
    )


def _summary(inputs: CardInputs, values: list[MetricValue], labels: np.ndarray) -> str:
    """The first section: the model, where it stands, the gate's verdict, the headline metrics with their
    intervals and which rows they come from, at a glance."""
    summary = inputs.summary or Summary(model=inputs.title)
    model = f"{summary.model} · learner {inputs.model.algorithm}" + (f" · {summary.date}" if summary.date else "")
    rows = [("Model", html.escape(model))]
    if inputs.status:
        rows.append(("Now", html.escape(inputs.status)))
    environments = summary.environments or (("Environments", "not known: the card was given no registry"),)
    rows += [(html.escape(name), html.escape(state)) for name, state in environments]
    rows.append(("Gate", html.escape(verdict(inputs.evidence))))
    headline = [value for value in values if value.name in HEADLINE]
    rows.append(("Metrics", " · ".join(_with_interval(value) for value in headline)))
    every = len(labels) <= SAMPLE_ROWS
    rows.append(
        (
            "Figures from",
            html.escape(
                f"{summary.source}: {len(labels):,} rows, default rate {labels.mean():.2%}; "
                + (
                    "values and intervals on every row"
                    if every
                    else f"values on every row, intervals on a seeded sample of {SAMPLE_ROWS:,} rows"
                )
            ),
        )
    )
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<section class='summary'><h2>Summary</h2><table>{body}</table></section>"


def _with_interval(value: MetricValue) -> str:
    interval = "no interval" if value.low is None or value.high is None else f"95% CI {value.low:.4f}–{value.high:.4f}"
    return f"{html.escape(value.name)} <strong>{value.value:.4f}</strong> ({interval})"


def verdict(evidence: Mapping[str, Any] | None) -> str:
    """The gate's latest decision in one sentence: what it decided, where, when and why (plain text)."""
    if not evidence:
        return "Not gated: no gate decision recorded for this model."
    decision = str(evidence.get("decision", ""))
    label = {"promoted": "Promoted", "blocked": "Blocked", tags.AWAITING_APPROVAL: "Awaiting approval"}.get(
        decision, decision.capitalize()
    )
    when = str(evidence.get("decided_at", ""))[:10]
    mode = str(evidence.get("mode", "enabled"))
    text = (
        f"{label} in {evidence.get('environment')}"
        + (f" on {when}" if when else "")
        + (f" (gate {mode})" if mode != "enabled" else "")
        + f": {evidence.get('reason')}."
    )
    checks = evidence.get("checks", [])
    failed = [
        str(check.get("name")) for check in checks if isinstance(check, Mapping) and check.get("verdict") == "fail"
    ]
    if failed:
        text += f" Failed checks: {', '.join(failed)}."
    measured = evidence.get("candidate")
    interval = measured.get("roc_auc_ci") if isinstance(measured, Mapping) else None
    if isinstance(measured, Mapping) and isinstance(interval, Mapping) and "roc_auc" in measured:
        text += (
            f" The gate measured ROC AUC {float(measured['roc_auc']):.4f} (CI {float(interval['low']):.4f}–"
            f"{float(interval['high']):.4f}) on its own holdout."
        )
    return text


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "figure{display:inline-block;margin:4px}h2{margin-top:1.6em;border-bottom:2px solid #2b6cb0}"
    ".summary{background:#ebf4ff;border:1px solid #2b6cb0;padding:.2em 1em .6em}.summary h2{margin-top:.4em}"
    ".summary td{text-align:left}.summary th{text-align:left;vertical-align:top;white-space:nowrap}"
)


def _table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    return frame.to_html(index=False, border=0, formatters=_formatters(frame, formats or {}), escape=True)


def _formatters(frame: pd.DataFrame, formats: dict[str, str]) -> dict[str, Any]:
    return {
        column: (lambda value, spec=spec: "—" if pd.isna(value) else format(value, spec))
        for column, spec in formats.items()
        if column in frame
    }


def _image(figure: Any, alt: str) -> str:
    """The figure as an inline PNG, with `alt` saying what it shows for those who cannot see it."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f"<figure><img alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,{encoded}'></figure>"


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2, 3.6), dpi=80)
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _data_summary(contract: Contract, features: np.ndarray, labels: np.ndarray) -> str:
    """The model's inputs as it sees them (text categories as their codes)."""
    finite = [values[np.isfinite(values)] for values in features.T]
    ranges = pd.DataFrame(
        {
            "feature": list(contract.features),
            "min": [values.min() if len(values) else np.nan for values in finite],
            "median": [np.median(values) if len(values) else np.nan for values in finite],
            "max": [values.max() if len(values) else np.nan for values in finite],
        }
    )
    return f"<h2>Data</h2><p>{len(labels):,} rows, default rate {labels.mean():.2%}.</p>" + _table(
        ranges, {"min": ",.0f", "median": ",.0f", "max": ",.0f"}
    )


def _metric_values(
    labels: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    sample_labels: np.ndarray,
    sample_probability: np.ndarray,
) -> list[MetricValue]:
    """The metric values on every row; their bootstrap intervals on the (possibly sampled) rows shown.
    Computed once: the summary and the Metrics section show the same values."""
    samples = bootstrap_card_metrics(sample_labels, sample_probability, threshold, samples=BOOTSTRAP_SAMPLES, seed=0)
    predicted = probability >= threshold
    point = {
        "ROC AUC": roc_auc_score(labels, probability),
        "PR AUC": average_precision_score(labels, probability),
        "Brier score": brier_score_loss(labels, probability),
        "log loss": log_loss(labels, np.clip(probability, LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON), labels=[0, 1]),
        "accuracy": float((predicted == labels).mean()),
        "F1": f1_score(labels, predicted, zero_division=0),
    }
    values = []
    for name, value in point.items():
        finite = samples[name][np.isfinite(samples[name])]
        if len(finite):
            low, high = np.percentile(finite, [2.5, 97.5])
            values.append(MetricValue(name, float(value), float(low), float(high)))
        else:
            values.append(MetricValue(name, float(value), None, None))
    return values


def _metrics(values: list[MetricValue], threshold: float) -> str:
    rows = [
        (
            value.name,
            f"{value.value:.4f}",
            "—" if value.low is None else f"{value.low:.4f}",
            "—" if value.high is None else f"{value.high:.4f}",
        )
        for value in values
    ]
    table = pd.DataFrame(rows, columns=["metric", "value", "95% CI low", "95% CI high"])
    note = (
        f"<p>Bootstrap percentile intervals, {BOOTSTRAP_SAMPLES} Poisson resamples of the rows; threshold"
        f" {threshold:g} for accuracy and F1. Lower is better for the Brier score and log loss.</p>"
    )
    return "<h2>Metrics</h2>" + note + _table(table)


def _curves(labels: np.ndarray, probability: np.ndarray, threshold: float) -> str:
    images = []
    figure, axes = _figure()
    fpr, tpr, _ = roc_curve(labels, probability)
    axes.plot(fpr, tpr)
    axes.plot([0, 1], [0, 1], "--", color="grey")
    axes.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
    auc = roc_auc_score(labels, probability)
    images.append(_image(figure, f"ROC curve: true against false positive rate, area {auc:.3f} (0.5 is chance)"))
    figure, axes = _figure()
    precision, recall, _ = precision_recall_curve(labels, probability)
    axes.plot(recall, precision)
    axes.axhline(labels.mean(), linestyle="--", color="grey")
    axes.set(title="Precision-recall curve", xlabel="recall", ylabel="precision")
    base = labels.mean()
    images.append(_image(figure, f"Precision against recall; the dashed line is the default rate {base:.1%}"))
    figure, axes = _figure()
    observed, predicted = calibration_curve(labels, probability, n_bins=10, strategy="quantile")
    axes.plot(predicted, observed, marker="o")
    axes.plot([0, 1], [0, 1], "--", color="grey")
    axes.set(title="Calibration", xlabel="predicted probability", ylabel="observed default rate")
    gap = float(np.max(np.abs(observed - predicted)))
    images.append(_image(figure, f"Calibration in 10 quantile bins: largest gap to the diagonal {gap:.3f}"))
    figure, axes = _figure()
    classes = (probability >= threshold).astype(int)
    matrix = np.array([[np.sum((labels == a) & (classes == b)) for b in (0, 1)] for a in (0, 1)])
    draw_confusion_matrix(axes, matrix, threshold)
    (tn, fp), (fn, tp) = matrix.tolist()
    images.append(_image(figure, f"Confusion matrix at {threshold:g}: {tn} TN, {fp} FP, {fn} FN, {tp} TP"))
    return "<h2>Curves</h2>" + "".join(images)


def _threshold_table(labels: np.ndarray, probability: np.ndarray) -> str:
    rows = []
    for threshold in THRESHOLDS:
        flagged = probability >= threshold
        true_positive = np.sum(flagged & (labels == 1))
        rows.append(
            {
                "threshold": threshold,
                "precision": true_positive / max(1, flagged.sum()),
                "recall": true_positive / max(1, labels.sum()),
                "approval rate": 1 - flagged.mean(),
            }
        )
    table = pd.DataFrame(rows)
    return (
        "<h2>Thresholds</h2><p>Customers at or above the threshold are flagged as likely to default; the"
        " approval rate is the share below it.</p>"
        + _table(table, {"threshold": ".1f", "precision": ".3f", "recall": ".3f", "approval rate": ".1%"})
    )


def _slices(contract: Contract, data: pd.DataFrame, labels: np.ndarray, probability: np.ndarray) -> str:
    masks = contract.slice_masks(data)
    rows = []
    for name, mask in masks.items():
        both = mask.sum() > 0 and len(np.unique(labels[mask])) == 2
        rows.append(
            {
                "slice": name,
                "rows": int(mask.sum()),
                "default rate": labels[mask].mean() if mask.any() else np.nan,
                "mean predicted": probability[mask].mean() if mask.any() else np.nan,
                "ROC AUC": roc_auc_score(labels[mask], probability[mask]) if both else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    formats = {"default rate": ".1%", "mean predicted": ".1%", "ROC AUC": ".3f"}
    return "<h2>Slices</h2>" + _table(table, formats)


def _fairness(
    contract: Contract,
    data: pd.DataFrame,
    labels: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    gate: GateSettings,
) -> str:
    """Per protected column, each group's approval rate and error rates at the threshold, and the two
    figures the gate holds to its limits; on every row, as the gate measures them."""
    protected = contract.protected
    if not protected:
        return "<h2>Fairness</h2><p>The contract declares no protected columns: there is nothing to measure.</p>"
    names = ", ".join(html.escape(name) for name in protected)
    head = (
        f"<h2>Fairness</h2><p>Protected columns: {names}. They are not model inputs: the model never sees"
        " them; they are kept to measure whether its decisions treat their groups alike. A row is approved"
        f" when its probability of default is below the threshold {threshold:g}. TPR is the share of a"
        " group's defaulters the model declines, FPR the share of its good payers it declines. Groups with"
        f" fewer than {gate.min_group_rows} rows, or without both outcomes, are shown but not judged.</p>"
    )
    absent = [name for name in protected if name not in data]
    if absent:
        missing = ", ".join(html.escape(name) for name in absent)
        head += f"<p><strong>Not measured:</strong> {missing} not in these data.</p>"
    report = fairness_report(
        labels, probability, threshold, protected_groups(contract, data), min_rows=gate.min_group_rows
    )
    return head + "".join(_fairness_column(column, gate) for column in report.columns)


def _fairness_column(column: ColumnFairness, gate: GateSettings) -> str:
    table = pd.DataFrame(
        {
            "group": [rates.group for rates in column.groups],
            "rows": [rates.rows for rates in column.groups],
            "approval rate": [rates.approval_rate for rates in column.groups],
            "TPR": [
                np.nan if rates.true_positive_rate is None else rates.true_positive_rate for rates in column.groups
            ],
            "FPR": [
                np.nan if rates.false_positive_rate is None else rates.false_positive_rate for rates in column.groups
            ],
            "judged": ["yes" if rates.judged else "no" for rates in column.groups],
        }
    )
    name = html.escape(column.column)
    missing = f" {column.missing:,} rows without a {name} value are left out." if column.missing else ""
    ratio, approval = column.adverse_impact_ratio, column.approval_gap
    difference, odds = column.equalized_odds_difference, column.odds_gap
    if ratio is None or approval is None or difference is None or odds is None:
        verdict = (
            f"<p>Not judged: fewer than two groups of {gate.min_group_rows}+ rows with both outcomes.{missing}</p>"
        )
    else:
        ratio_ok = ratio_meets(ratio, gate.min_adverse_impact_ratio)
        odds_ok = difference_meets(difference, gate.max_equalized_odds_difference)
        verdict = (
            f"<p>Adverse impact ratio <strong>{ratio:.3f}</strong> ({_gap(approval)} approved):"
            f" {_meets(ratio_ok)} the minimum {gate.min_adverse_impact_ratio:g}. Equalized odds difference"
            f" <strong>{difference:.3f}</strong> ({column.odds_rate} {_gap(odds)}):"
            f" {_meets(odds_ok)} the maximum {gate.max_equalized_odds_difference:g}.{missing}</p>"
        )
    formats = {"rows": ",d", "approval rate": ".1%", "TPR": ".1%", "FPR": ".1%"}
    return f"<h3>{name}</h3>" + _table(table, formats) + verdict


def _meets(ok: bool | None) -> str:
    return "meets" if ok else "<strong>fails</strong>"


def _gap(gap: Gap) -> str:
    return f"{html.escape(gap.low_group)} {gap.low:.1%} vs {html.escape(gap.high_group)} {gap.high:.1%}"


def _reviewed_table(model: TrainedModel) -> str:
    """What validators review of the model itself (a scorecard's points), where the learner has it."""
    found = model.learner.reviewed_table(model.estimator)
    if found is None:
        return ""
    title, table = found
    return f"<h2>Model</h2><p>{html.escape(title)}.</p>" + _table(table, {"points": ".1f"})


def _importance(model: TrainedModel, features: np.ndarray, labels: np.ndarray) -> str:
    """Permutation importance: the ROC AUC lost when one feature's column is shuffled (seeded), on at
    most IMPORTANCE_ROWS rows: the ranking is stable there and the card stays quick to write."""
    rng = np.random.default_rng(0)
    if len(labels) > IMPORTANCE_ROWS:
        rows = rng.choice(len(labels), IMPORTANCE_ROWS, replace=False)
        features, labels = features[rows], labels[rows]
    base = roc_auc_score(labels, model.predict_proba(features))
    losses = []
    for position in range(features.shape[1]):
        shuffled = features.copy()
        shuffled[:, position] = rng.permutation(shuffled[:, position])
        losses.append(base - roc_auc_score(labels, model.predict_proba(shuffled)))
    order = np.argsort(losses)
    figure, axes = _figure()
    figure.set_size_inches(9, 7.5)
    figure.set_dpi(100)
    shown = [losses[i] for i in order]
    colours = ["#c53030" if loss < 0 else "#2b6cb0" for loss in shown]
    names = model.contract.features
    axes.barh([names[i] for i in order], shown, color=colours)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set(title="Permutation importance", xlabel="ROC AUC lost when the feature is shuffled")
    axes.tick_params(labelsize=11)
    top = ", ".join(names[i] for i in order[::-1][:3])
    note = (
        f"<p>The ROC AUC the model loses when one feature's values are shuffled across {len(labels):,} rows"
        " (seeded): the longer the bar, the more the model relies on the feature. A negative value (red)"
        " means shuffling made no difference beyond noise: the model uses that feature little or not at"
        " all on these rows.</p>"
    )
    return "<h2>Feature importance</h2>" + note + _image(figure, f"Permutation importance; the largest: {top}")


def _contribution_view(model: TrainedModel, features: np.ndarray) -> str:
    """The global view of the reason codes: mean |contribution| to the log-odds per feature and per reason
    group, from the same contributions as each row's reasons, on at most IMPORTANCE_ROWS seeded rows."""
    from creditops.modelling.reasons import contributions, mean_absolute_by_group

    if len(features) > IMPORTANCE_ROWS:
        features = features[np.random.default_rng(0).choice(len(features), IMPORTANCE_ROWS, replace=False)]
    parts = contributions(model, features)
    by_feature = np.abs(parts[:, :-1]).mean(axis=0)
    order = np.argsort(by_feature)
    figure, axes = _figure()
    figure.set_size_inches(9, 7.5)
    figure.set_dpi(100)
    names = model.contract.features
    axes.barh([names[i] for i in order], by_feature[order], color="#2b6cb0")
    axes.set(title="Mean |contribution| per feature", xlabel="mean |contribution| to the log-odds of default")
    axes.tick_params(labelsize=11)
    groups = model.contract.reasons
    by_group = mean_absolute_by_group(model.contract, parts)
    table = pd.DataFrame(
        {
            "reason code": [group.code for group in groups],
            "features": [", ".join(group.columns) for group in groups],
            "mean |contribution|": [by_group[group.code] for group in groups],
        }
    ).sort_values("mean |contribution|", ascending=False)
    method = model.learner.explanation
    top = ", ".join(names[i] for i in order[::-1][:3])
    note = (
        f"<p>How much each feature moves the model's log-odds on average, over {len(features):,} rows"
        f" (seeded), from the same {method} contributions that give each row its reason codes (the reason"
        f" groups of the contract {html.escape(model.contract.name)}). Unlike permutation importance, this"
        " measures what the model"
        " does, not what the AUC needs; a reason group's value is the mean of its features' summed"
        " contribution, so features that push in opposite directions within a row offset each other.</p>"
    )
    image = _image(figure, f"Mean absolute contribution per feature; the largest: {top}")
    return (
        "<h2>Contributions (global view of the reason codes)</h2>"
        + note
        + image
        + _table(table, {"mean |contribution|": ".3f"})
    )


def _champion(inputs: CardInputs, data: pd.DataFrame, labels: np.ndarray, probability: np.ndarray) -> str:
    """The champion scored on the same rows, reading them through its own contract (its features may differ)."""
    if inputs.champion is None:
        return (
            "<h2>Champion</h2><p>No other champion to compare with: it is the champion itself, or none came"
            " before it.</p>"
        )
    other = inputs.champion.predict_proba(data)
    table = pd.DataFrame(
        {
            "metric": ["ROC AUC", "PR AUC", "Brier score"],
            "this model": [
                roc_auc_score(labels, probability),
                average_precision_score(labels, probability),
                brier_score_loss(labels, probability),
            ],
            inputs.champion_label: [
                roc_auc_score(labels, other),
                average_precision_score(labels, other),
                brier_score_loss(labels, other),
            ],
        }
    )
    return "<h2>Champion</h2>" + _table(table, {c: ".4f" for c in table.columns if c != "metric"})


def _lineage(lineage: dict[str, str]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in lineage.items())
    return f"<h2>Lineage</h2><table>{rows}</table>"


def _evidence(evidence: Mapping[str, Any] | None) -> str:
    if not evidence:
        return "<h2>Promotion gate</h2><p>No gate decision recorded for this version.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(c['name'])}</td><td>{html.escape(c['verdict'])}</td><td>{html.escape(c['detail'])}</td></tr>"
        for c in evidence.get("checks", [])
    )
    head = f"<p>{html.escape(evidence.get('decision', ''))} in {html.escape(str(evidence.get('environment')))}"
    return f"<h2>Promotion gate</h2>{head}: {html.escape(str(evidence.get('reason')))}</p><table>{rows}</table>"
