"""Monitoring an environment: drift of its live traffic against the training reference of the deployed
model, and the production model's performance on the outcomes observed since it scored."""

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import numpy as np

from creditops.context import Context
from creditops.endpoints import state
from creditops.errors import CreditopsError, TooLittleEvidenceError
from creditops.files import read_json, write_json
from creditops.flow.release import environment_split
from creditops.monitoring import history, history_page, outcomes_page, page, performance, request_log
from creditops.monitoring.drift import DriftReport, compare, too_few_rows
from creditops.monitoring.history import DriftSummary, History
from creditops.tracking import names
from creditops.tracking.registry import Registry

DRIFT_EXIT = 4
"""Exit status of a monitoring check whose finding calls for retraining (drift, or AUC below the minimum)."""
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(duration: str, option: str = "--since") -> float:
    """Seconds in a duration like 30m, 6h or 2d."""
    number, unit = duration[:-1], duration[-1:]
    if unit not in _UNITS or not number.replace(".", "", 1).isdigit():
        raise CreditopsError(f"{option} {duration!r} is not a duration like 30m, 6h or 2d")
    return float(number) * _UNITS[unit]


@dataclass(frozen=True)
class DriftCheck:
    report: DriftReport
    page: Path
    model_version: str
    summary: DriftSummary
    """What the check keeps beside its page (the history is built from these)."""


def check_drift(context: Context, since_seconds: float) -> DriftCheck:
    """Compare the requests logged in the last `since_seconds` with the training data's split."""
    env = context.env.name
    settings = context.env.monitoring
    endpoint = context.env.endpoint.name
    rows = list(request_log.read(state.requests(context.endpoints_dir, endpoint), time.time() - since_seconds))
    if too_few_rows(len(rows), settings):
        raise TooLittleEvidenceError(
            f"only {len(rows)} logged rows on {endpoint} in the last {since_seconds:g} s; need {settings.min_rows}:"
            " send traffic or widen --since"
        )
    version = Counter(row["model_version"] for row in rows).most_common(1)[0][0]
    live = np.array([row["features"] for row in rows], dtype=np.float64)
    live_probability = np.array([row["probability"] for row in rows])
    model = Registry(context.store_uri).load(f"models:/{context.model_name}/{version}")
    contract = model.contract
    columns = contract.request_columns
    if live.shape[1] != len(columns):
        raise CreditopsError(
            f"the rows logged for version {version} have {live.shape[1]} columns, its data contract"
            f" {len(columns)}: the log is from another model; send traffic to this one and check again"
        )
    train = environment_split(context)[0]
    reference = contract.encoded(train, columns)
    report = compare(
        reference, live, model.predict_proba(train), live_probability, settings, columns, contract.coded_columns
    )
    stamp = _stamp()
    path = context.monitoring_dir / f"drift-{env}-{stamp}.html"
    page.render(report, reference, live, f"Drift on {endpoint} ({env}, model version {version})", path)
    summary = history.summarize(report, stamp, version, path)
    write_json(path.with_suffix(".json"), summary.model_dump(mode="json"))
    return DriftCheck(report, path, version, summary)


def last_drift(context: Context) -> dict[str, object] | None:
    """The summary of the newest drift check of the environment, if one ran."""
    return _last(context, "drift")


@dataclass(frozen=True)
class DriftHistory:
    history: History
    page: Path | None
    """The history page; None when no check was kept yet (no page is written)."""


def history_page_path(context: Context) -> Path:
    """Where `monitor history` writes the environment's page by default."""
    return context.monitoring_dir / f"drift-history-{context.env.name}.html"


def drift_history(context: Context, out: Path | None = None) -> DriftHistory:
    """The drift checks kept for the environment, oldest first, and their page written to `out` (default
    `history_page_path`)."""
    env = context.env.name
    found = history.read_history(context.monitoring_dir, env)
    if not found.checks:
        return DriftHistory(found, None)
    target = out if out is not None else history_page_path(context)
    history_page.render(found, f"Drift history of {context.env.endpoint.name} ({env})", target)
    return DriftHistory(found, target)


@dataclass(frozen=True)
class PerformanceCheck:
    report: performance.PerformanceReport
    joined: performance.Joined
    page: Path


def check_performance(context: Context, outcomes: Path, since_seconds: float) -> PerformanceCheck:
    """Join the outcomes to the predictions logged in the last `since_seconds` and judge the model on them."""
    from creditops.data.io import read_table

    contract = context.modelling.contract()
    table = performance.read_outcomes(read_table(outcomes, contract), str(outcomes), contract)
    endpoint = context.env.endpoint.name
    logged = request_log.read(state.requests(context.endpoints_dir, endpoint), time.time() - since_seconds)
    joined = performance.join(table, logged)
    info = Registry(context.store_uri).describe(context.model_name, joined.model_version)
    at_test = {}
    for metric in ("roc_auc", "brier_score", "default_rate"):
        if names.metric_tag(metric) in info.tags:
            at_test[metric] = float(info.tags[names.metric_tag(metric)])
    settings = context.env.monitoring
    threshold = float(info.tags.get(names.THRESHOLD, "0.5"))
    report = performance.judge(
        joined.labels,
        joined.probability,
        at_test,
        min_auc=settings.min_auc,
        min_rows=settings.min_outcomes,
        threshold=threshold,
    )
    env = context.env.name
    stamp = _stamp()
    path = context.monitoring_dir / f"outcomes-{env}-{stamp}.html"
    title = f"Outcomes on {endpoint} ({env}, model version {joined.model_version})"
    outcomes_page.render(report, joined, title, path)
    summary = {
        "at": stamp,
        "degraded": report.degraded,
        "rows": report.rows,
        "roc_auc": report.auc.value,
        "roc_auc_low": report.auc.low,
        "roc_auc_high": report.auc.high,
        "roc_auc_at_test": report.auc.at_test,
        "min_auc": report.min_auc,
        "unmatched_outcomes": joined.unmatched,
        "model_version": joined.model_version,
        "outcomes": str(outcomes),
        "page": str(path),
    }
    write_json(path.with_suffix(".json"), summary)
    return PerformanceCheck(report, joined, path)


def last_performance(context: Context) -> dict[str, object] | None:
    """The summary of the newest outcomes check of the environment, if one ran."""
    return _last(context, "outcomes")


def _last(context: Context, kind: str) -> dict[str, object] | None:
    found = sorted(context.monitoring_dir.glob(f"{kind}-{context.env.name}-*.json"))
    return read_json(found[-1]) if found else None


def _stamp() -> str:
    """UTC time to the microsecond: two checks in one second keep both pages, and names sort by time."""
    return history.stamp(datetime.now(UTC))


@dataclass(frozen=True)
class Findings:
    """What the scheduled monitoring found: each check's result, or why it could not judge."""

    drift: DriftCheck | None
    performance: PerformanceCheck | None
    not_judged: tuple[str, ...]

    @property
    def reasons_to_retrain(self) -> list[str]:
        reasons = []
        if self.drift is not None and self.drift.report.drifted:
            reasons.append(f"drift: {self.drift.report.summary()}")
        if self.performance is not None and self.performance.report.degraded:
            reasons.append(f"outcomes: {self.performance.report.summary()}")
        return reasons

    @property
    def pages(self) -> list[Path]:
        """The pages and their JSON summaries, to attach to the retraining run."""
        found = [check.page for check in (self.drift, self.performance) if check is not None]
        return [path for page in found for path in (page, page.with_suffix(".json"))]


def monitor(context: Context, outcomes: Path | None) -> Findings:
    """Drift over the environment's drift window, and performance on its outcomes (the file given, else
    its `monitoring.outcomes`): what `ci monitor` and the scheduled workflows judge."""
    settings = context.env.monitoring
    not_judged = []
    drift = None
    try:
        drift = check_drift(context, duration_seconds(settings.drift_window, "monitoring.drift_window"))
    except TooLittleEvidenceError as error:
        not_judged.append(f"drift not judged: {error}")
    source = outcomes if outcomes is not None else (Path(settings.outcomes) if settings.outcomes else None)
    checked = None
    if source is None:
        not_judged.append("outcomes not judged: set monitoring.outcomes in the environment file or pass --outcomes")
    else:
        try:
            checked = check_performance(
                context, source, duration_seconds(settings.outcomes_window, "monitoring.outcomes_window")
            )
        except TooLittleEvidenceError as error:
            not_judged.append(f"outcomes not judged: {error}")
    return Findings(drift, checked, tuple(not_judged))
