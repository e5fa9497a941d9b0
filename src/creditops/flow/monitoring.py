"""Drift of an environment's live traffic against the training reference of the deployed model."""

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from creditops.endpoints import state
from creditops.errors import CreditopsError
from creditops.flow.release import environment_split, open_environment
from creditops.modelling.estimators import feature_matrix
from creditops.monitoring import page, request_log
from creditops.monitoring.drift import DriftReport, DriftThresholds, compare
from creditops.tracking import registry
from creditops.workspace import workspace_root

DRIFT_EXIT = 4


@dataclass(frozen=True)
class DriftCheck:
    report: DriftReport
    page: Path
    model_version: str


def check_drift(env: str, since_seconds: float) -> DriftCheck:
    """Compare the requests logged in the last `since_seconds` with the training data's split."""
    context = open_environment(env)
    settings = context.environment.monitoring
    endpoint = context.environment.endpoint.name
    rows = list(request_log.read(state.requests(endpoint), time.time() - since_seconds))
    if len(rows) < settings.min_rows:
        raise CreditopsError(
            f"only {len(rows)} logged rows on {endpoint} in the last {since_seconds:g} s; need {settings.min_rows}:"
            " send traffic or widen --since"
        )
    version = Counter(row["model_version"] for row in rows).most_common(1)[0][0]
    live = np.array([row["features"] for row in rows], dtype=np.float64)
    live_probability = np.array([row["probability"] for row in rows])
    reference = feature_matrix(environment_split(context)[0])
    model = registry.load(context.store_uri, f"models:/{context.model_name}/{version}")
    report = compare(
        reference,
        live,
        model.predict_proba(reference),
        live_probability,
        DriftThresholds(**settings.model_dump()),
    )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = workspace_root() / "monitoring" / f"drift-{env}-{stamp}.html"
    page.render(report, reference, live, f"Drift on {endpoint} ({env}, model version {version})", path)
    return DriftCheck(report, path, version)
