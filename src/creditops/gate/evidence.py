"""The evidence record of a gate decision: JSON in the workspace, an MLflow artifact and version tags."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from creditops.errors import CreditopsError
from creditops.files import write_json
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo

if TYPE_CHECKING:  # only a type here: reading evidence needs no gate (scikit-learn, SciPy)
    from creditops.gate.checks import GateResult

EVIDENCE_FOLDER = "evidence"


class EvidenceRecord(TypedDict):
    """One gate decision: lineage, each check's verdict, metrics with intervals, approver and times."""

    model_name: str
    model_version: str
    environment: str
    decision: str
    reason: str
    git_commit: str | None
    data_sha256: str | None
    config_hash: str | None
    environment_lock_hash: str
    approver: str | None
    approver_via: str | None
    approval_reason: str | None
    approved_at: str | None
    mode: str
    checks: list[dict[str, Any]]
    candidate: dict[str, Any]
    champion: dict[str, Any] | None
    rollout: dict[str, Any] | None
    dirty_allowed: bool
    """The version was trained from uncommitted changes and a person let it through (--allow-dirty)."""
    started_at: str
    decided_at: str


def now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def build(
    *,
    environment: str,
    version: VersionInfo,
    result: "GateResult",
    decision: str,
    reason: str,
    lock_hash: str,
    started_at: str,
    rollout: dict[str, Any] | None = None,
) -> EvidenceRecord:
    """The record: lineage, metrics with intervals, each check's verdict, approver, reason, times."""
    tags = version.tags
    gate = result.as_dict()
    return EvidenceRecord(
        model_name=version.name,
        model_version=version.version,
        environment=environment,
        decision=decision,
        reason=reason,
        git_commit=tags.get(names.GIT_COMMIT),
        data_sha256=tags.get(names.DATA_SHA256),
        config_hash=tags.get(names.CONFIG_HASH),
        environment_lock_hash=lock_hash,
        approver=tags.get(names.APPROVAL_BY),
        approver_via=tags.get(names.APPROVAL_VIA),
        approval_reason=tags.get(names.APPROVAL_REASON),
        approved_at=tags.get(names.APPROVAL_AT),
        dirty_allowed=tags.get(names.DIRTY_ALLOWED) == "true",
        mode=gate["mode"],
        checks=gate["checks"],
        candidate=gate["candidate"],
        champion=gate["champion"],
        rollout=rollout,
        started_at=started_at,
        decided_at=now(),
    )


def attach(registry: Registry, folder: Path, version: VersionInfo, payload: Mapping[str, Any]) -> Path:
    """Write a decision record into `folder` and attach it to the version's run (where later jobs read it)."""
    stamp = str(payload["decided_at"]).replace(":", "").replace("-", "")
    path = folder / f"{version.name}-v{version.version}-{stamp}.json"
    write_json(path, dict(payload))
    if version.run_id:
        registry.attach_artifact(version.run_id, path, EVIDENCE_FOLDER)
    return path


def record(registry: Registry, folder: Path, version: VersionInfo, evidence: EvidenceRecord) -> Path:
    """Write the record into `folder`, attach it to the version's run, tag the version."""
    path = attach(registry, folder, version, evidence)
    registry.set_tags(
        version.name,
        version.version,
        {
            names.GATE_DECISION: evidence["decision"],
            names.GATE_MODE: evidence["mode"],
            names.GATE_ENVIRONMENT: evidence["environment"],
            names.GATE_DECIDED_AT: evidence["decided_at"],
            names.GATE_EVIDENCE: f"{EVIDENCE_FOLDER}/{path.name}",
        },
    )
    return path


def history(registry: Registry, version: VersionInfo) -> list[dict[str, Any]]:
    """Every decision record attached to the version's run (gate decisions and rollbacks), oldest first."""
    if not version.run_id:
        return []
    records = [json.loads(text) for _, text in registry.run_artifact_texts(version.run_id, EVIDENCE_FOLDER)]
    return sorted((record for record in records if isinstance(record, dict)), key=lambda r: str(r.get("decided_at")))


def latest(registry: Registry, version: VersionInfo) -> EvidenceRecord:
    """The newest evidence record of a version."""
    if not version.run_id:
        raise CreditopsError(f"version {version.version} has no run to hold evidence")
    files = registry.run_artifact_texts(version.run_id, EVIDENCE_FOLDER)
    if not files:
        raise CreditopsError(
            f"no gate evidence for {version.name} version {version.version}: run 'creditops promote' first"
        )
    return cast(EvidenceRecord, json.loads(files[-1][1]))


def latest_decision(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest gate decision among a version's `records` (its `history`); None when the gate never judged
    it. Rollback records are not gate decisions."""
    return next((record for record in reversed(records) if "checks" in record), None)


def in_environment(records: list[dict[str, Any]], environment: str | None) -> list[dict[str, Any]]:
    """The records made in `environment` (all when None): a store shared by environments holds each one's."""
    return [record for record in records if environment is None or record.get("environment") == environment]


def decision_of(registry: Registry, version: VersionInfo, environment: str | None = None) -> dict[str, Any] | None:
    """The newest gate decision of `version` in `environment` (in any when None)."""
    return latest_decision(in_environment(history(registry, version), environment))
