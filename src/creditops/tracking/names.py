"""Every tag and alias name creditops writes to the registry, and the lineage keys, in one place."""

from typing import Final

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
PREVIOUS_CHAMPION: Final = "previous-champion"
ALIAS_TAG_PREFIX: Final = "creditops.alias."
"""Where a registry without aliases (Azure ML's MLflow registry) keeps them: a registered-model tag
`creditops.alias.champion` holding the version."""

GIT_COMMIT: Final = "git_commit"
DATA_SHA256: Final = "data_sha256"
DATA_FILE: Final = "data_file"
CONFIG_HASH: Final = "config_hash"
ALGORITHM: Final = "algorithm"
FINGERPRINT: Final = "creditops.fingerprint"
THRESHOLD: Final = "threshold"
MODEL_FILES: Final = "model.files_sha256"
"""Each file of the version's model and its SHA-256, as registered (checked at every load)."""
COMPARISON: Final = "comparison"
RUN_ID: Final = "run_id"
METRIC_PREFIX: Final = "metric."
OWNER_PID: Final = "creditops.pid"
OWNER_HOST: Final = "creditops.host"
"""Run tags: which process on which machine runs it, so a later run can end it if that process is gone."""
RUN_KIND: Final = "creditops.kind"
BATCH_SCORE: Final = "batch-score"
REGISTRATION: Final = "creditops.registration"
"""Run tag of a training run: what it registered, or why it registered nothing (for `creditops runs list`)."""

LINEAGE: Final = (GIT_COMMIT, DATA_FILE, DATA_SHA256, CONFIG_HASH, ALGORITHM, FINGERPRINT)
"""What a registered version says about where it came from, in the order people read it."""

APPROVAL_BY: Final = "approval.by"
APPROVAL_VIA: Final = "approval.via"
"""How the approver's identity was established: "authenticated store" or "local name"."""
REGISTERED_BY: Final = "registered.by"
APPROVAL_REASON: Final = "approval.reason"
APPROVAL_AT: Final = "approval.at"
APPROVAL_ENV: Final = "approval.env"

DIRTY_ALLOWED: Final = "release.allow_dirty"
"""Set on a version trained from uncommitted changes that a person let through with --allow-dirty."""
GATE_DECISION: Final = "gate.decision"
GATE_MODE: Final = "gate.mode"
GATE_ENVIRONMENT: Final = "gate.environment"
GATE_DECIDED_AT: Final = "gate.decided_at"
GATE_EVIDENCE: Final = "gate.evidence"
AWAITING_APPROVAL: Final = "awaiting-approval"
ROLLED_BACK: Final = "rolled-back"


def rollback_tag(env: str, field: str) -> str:
    """`rollback.ENV.at|by|reason`: a rollback withdraws a version from one environment only."""
    return f"rollback.{env}.{field}"


def metric_tag(metric: str) -> str:
    return f"{METRIC_PREFIX}{metric}"


CLUSTER_SCHEDULER: Final = "cluster.scheduler"
"""Run parameter: the Dask scheduler a version was trained on (its split was the cluster's hashed one)."""
