"""Drift of an environment's live traffic against the training reference of the deployed model."""

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from creditops.context import Context
from creditops.endpoints import state
from creditops.errors import CreditopsError
from creditops.files import read_json, write_json
from creditops.flow.release import environment_split
from creditops.modelling.estimators import feature_matrix
from creditops.monitoring import page, request_log
from creditops.monitoring.drift import DriftReport, compare, too_few_rows
from creditops.tracking.registry import Registry

DRIFT_EXIT = 4


@dataclass(frozen=True)
class DriftCheck:
    report: DriftReport
    page: Path
    model_version: str


def check_drift(context: Context, since_seconds: float) -> DriftCheck:
    """Compare the requests logged in the last `since_seconds` with the training data's split."""
    env = context.env.name
    settings = context.env.monitoring
    endpoint = context.env.endpoint.name
    rows = list(request_log.read(state.requests(context.endpoints_dir, endpoint), time.time() - since_seconds))
    if too_few_rows(len(rows), settings):
        raise CreditopsError(
            f"only {len(rows)} logged rows on {endpoint} in the last {since_seconds:g} s; need {settings.min_rows}:"
            " send traffic or widen --since"
        )
    version = Counter(row["model_version"] for row in rows).most_common(1)[0][0]
    live = np.array([row["features"] for row in rows], dtype=np.float64)
    live_probability = np.array([row["probability"] for row in rows])
    reference = feature_matrix(environment_split(context)[0])
    model = Registry(context.store_uri).load(f"models:/{context.model_name}/{version}")
    report = compare(
        reference,
        live,
        model.predict_proba(reference),
        live_probability,
        settings,
    )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = context.monitoring_dir / f"drift-{env}-{stamp}.html"
    page.render(report, reference, live, f"Drift on {endpoint} ({env}, model version {version})", path)
    summary = {
        "at": stamp,
        "drifted": report.drifted,
        "rows": report.rows,
        "drifted_features": list(report.drifted_features),
        "reference_default_rate": report.reference_rate,
        "live_default_rate": report.live_rate,
        "model_version": version,
        "page": str(path),
    }
    write_json(path.with_suffix(".json"), summary)
    return DriftCheck(report, path, version)


def last_drift(context: Context) -> dict[str, object] | None:
    """The summary of the newest drift check of the environment, if one ran."""
    found = sorted(context.monitoring_dir.glob(f"drift-{context.env.name}-*.json"))
    return read_json(found[-1]) if found else None
