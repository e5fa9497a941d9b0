"""How good the production model is on the outcomes observed since: outcomes joined to the logged
predictions by ID, ROC AUC, calibration and default rate with bootstrap intervals, and the verdict."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from creditops.data.contract import Contract
from creditops.errors import CreditopsError, TooLittleEvidenceError
from creditops.modelling.metrics import bootstrap_card_metrics

BOOTSTRAP_SAMPLES: Final = 300
CALIBRATION_BINS: Final = 10
CONFIDENCE: Final = 0.95


@dataclass(frozen=True)
class Joined:
    """The outcomes that met a logged prediction of the judged model version, row by row."""

    ids: list[Any]
    labels: np.ndarray
    probability: np.ndarray
    model_version: str
    outcomes: int
    """Outcome rows in the file."""
    unmatched: int
    """Outcomes with no logged prediction in the window (scored before it, or never through the endpoint)."""
    other_versions: dict[str, int]
    """Joined rows predicted by other model versions: left out, counted per version."""
    observed_from: str
    observed_to: str


@dataclass(frozen=True)
class Figure:
    """One figure on the outcomes: its value, bootstrap interval, and what the model showed at test time."""

    name: str
    value: float
    low: float
    high: float
    at_test: float | None


@dataclass(frozen=True)
class PerformanceReport:
    rows: int
    figures: tuple[Figure, ...]
    calibration: tuple[tuple[float, float, int], ...]
    """Per decile of predicted probability: mean predicted, observed default rate, rows."""
    min_auc: float

    @property
    def auc(self) -> Figure:
        return self.figures[0]

    @property
    def degraded(self) -> bool:
        """The production ROC AUC on observed outcomes is below the environment's minimum."""
        return self.auc.value < self.min_auc

    def summary(self) -> str:
        auc = self.auc
        at_test = "" if auc.at_test is None else f" (at test time {auc.at_test:.3f})"
        verdict = "below" if self.degraded else "at or above"
        return (
            f"ROC AUC {auc.value:.3f} [{auc.low:.3f}, {auc.high:.3f}] on {self.rows:,} outcomes{at_test},"
            f" {verdict} the minimum {self.min_auc:g}"
        )


def read_outcomes(frame: pd.DataFrame, source: str, contract: Contract) -> pd.DataFrame:
    """The outcomes table checked against the contract: its ID and label columns, labels among the label's two
    values, each ID once, dates readable. Returned with the columns key, id, label (1: default), observed_on."""
    id_column, label, observed_on = contract.id_column, contract.label_column, contract.outcome_date
    if id_column is None:
        raise CreditopsError(
            f"the data contract {contract.name!r} has no id column: outcomes are joined to predictions by ID;"
            " give one column role id"
        )
    missing = [name for name in (id_column, label) if name not in frame]
    if missing:
        raise CreditopsError(
            f"{source} lacks the column(s) {', '.join(repr(m) for m in missing)}: outcomes need {id_column!r},"
            f" {label!r} and, optionally, {observed_on!r} (write them with 'creditops data synth --outcomes')"
        )
    if frame.empty:
        raise CreditopsError(f"{source} has no outcome rows")
    allowed = [str(value) for value in contract.columns[label].categories or ()]
    values = frame[label]
    as_text = values.map(_as_text)
    bad = ~as_text.isin(allowed) | values.isna()
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise CreditopsError(
            f"{source} row {row + 1}: {label} is {str(values.iloc[row])!r}; outcomes are {' or '.join(allowed)}"
        )
    if frame[id_column].isna().any():
        row = int(np.argmax(frame[id_column].isna().to_numpy()))
        raise CreditopsError(f"{source} row {row + 1}: the {id_column} is empty")
    keys = frame[id_column].map(id_key)
    repeated = keys.duplicated()
    if repeated.any():
        row = int(np.argmax(repeated.to_numpy()))
        raise CreditopsError(f"{source} row {row + 1}: {id_column} {str(frame[id_column].iloc[row])!r} appears twice")
    dates = pd.Series(pd.NaT, index=frame.index)
    if observed_on in frame:
        dates = pd.to_datetime(frame[observed_on], errors="coerce", format="mixed")
        unreadable = dates.isna() & frame[observed_on].notna()
        if unreadable.any():
            row = int(np.argmax(unreadable.to_numpy()))
            shown = str(frame[observed_on].iloc[row])
            raise CreditopsError(f"{source} row {row + 1}: {observed_on} {shown!r} is not a date like 2026-11-30")
    labels = (as_text == str(contract.label.positive)).astype(int)
    return pd.DataFrame({"key": keys, "id": frame[id_column], "label": labels, "observed_on": dates})


def _as_text(value: Any) -> str:
    """A label value as the contract writes it: 1.0 (a CSV column with a gap) is 1."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def id_key(value: Any) -> str:
    """One spelling per ID whether it came as 17, 17.0 or "17" (JSON, CSV and Parquet disagree)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def join(outcomes: pd.DataFrame, logged: Iterable[Mapping[str, Any]]) -> Joined:
    """Each outcome with the latest logged prediction of its ID; the rows of the model version that made
    most of them (the production model) are kept, the others counted."""
    latest: dict[str, tuple[float, float, str]] = {}
    for row in logged:
        if row.get("id") is None:
            continue
        key = id_key(row["id"])
        if key not in latest or row["t"] >= latest[key][0]:
            latest[key] = (row["t"], row["probability"], row["model_version"])
    found = outcomes[outcomes["key"].isin(latest.keys())]
    versions = Counter(latest[key][2] for key in found["key"])
    if not versions:
        raise TooLittleEvidenceError(
            f"none of the {len(outcomes):,} outcomes has a logged prediction with its ID in the window:"
            " send the rows with their IDs (an index or an ID column), or widen --since"
        )
    version = versions.most_common(1)[0][0]
    kept = found[[latest[key][2] == version for key in found["key"]]]
    dates = kept["observed_on"].dropna()
    return Joined(
        ids=kept["id"].tolist(),
        labels=kept["label"].to_numpy(),
        probability=np.array([latest[key][1] for key in kept["key"]], dtype=np.float64),
        model_version=version,
        outcomes=len(outcomes),
        unmatched=len(outcomes) - len(found),
        other_versions={name: count for name, count in versions.items() if name != version},
        observed_from=dates.min().date().isoformat() if len(dates) else "",
        observed_to=dates.max().date().isoformat() if len(dates) else "",
    )


def judge(
    labels: np.ndarray,
    probability: np.ndarray,
    at_test: Mapping[str, float],
    *,
    min_auc: float,
    min_rows: int,
    threshold: float = 0.5,
    seed: int = 0,
) -> PerformanceReport:
    """ROC AUC, Brier score, observed default rate and mean predicted probability of default with bootstrap
    intervals, and calibration."""
    if len(labels) < min_rows:
        raise TooLittleEvidenceError(
            f"only {len(labels)} outcomes met a logged prediction; need {min_rows} to judge: wait for more"
            " outcomes, widen --since, or lower monitoring.min_outcomes"
        )
    if len(np.unique(labels)) < 2:
        raise TooLittleEvidenceError(
            f"all {len(labels)} joined outcomes are {int(labels[0])}: ROC AUC needs both classes"
        )
    samples = bootstrap_card_metrics(labels, probability, threshold, samples=BOOTSTRAP_SAMPLES, seed=seed)
    tail = (1 - CONFIDENCE) / 2 * 100
    values = {
        "ROC AUC": (float(roc_auc_score(labels, probability)), at_test.get("roc_auc")),
        "Brier score": (float(brier_score_loss(labels, probability)), at_test.get("brier_score")),
        "default rate": (float(labels.mean()), at_test.get("default_rate")),
        "mean predicted": (float(probability.mean()), None),
    }
    figures = []
    for name, (value, expected) in values.items():
        finite = samples[name][np.isfinite(samples[name])]
        low, high = np.percentile(finite, [tail, 100 - tail])
        figures.append(Figure(name, value, float(low), float(high), expected))
    return PerformanceReport(len(labels), tuple(figures), calibration(labels, probability), min_auc)


def calibration(labels: np.ndarray, probability: np.ndarray) -> tuple[tuple[float, float, int], ...]:
    """Per decile of predicted probability (equal counts): mean predicted, observed default rate, rows."""
    order = np.argsort(probability, kind="stable")
    bins = []
    for part in np.array_split(order, CALIBRATION_BINS):
        if len(part):
            bins.append((float(probability[part].mean()), float(labels[part].mean()), len(part)))
    return tuple(bins)
