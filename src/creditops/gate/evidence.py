"""The evidence record of a gate decision: JSON in the workspace, an MLflow artifact and version tags."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from creditops.errors import CreditopsError
from creditops.files import write_json
from creditops.gate.checks import GateResult
from creditops.tracking import registry
from creditops.workspace import workspace_root

EVIDENCE_FOLDER = "evidence"


def now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="seconds")


def build(
    *,
    environment: str,
    version: registry.VersionInfo,
    result: GateResult,
    decision: str,
    reason: str,
    lock_hash: str,
    started_at: str,
) -> dict[str, Any]:
    """The record: lineage, metrics with intervals, each check's verdict, approver, reason, times."""
    tags = version.tags
    return {
        "model_name": version.name,
        "model_version": version.version,
        "environment": environment,
        "decision": decision,
        "reason": reason,
        "git_commit": tags.get("git_commit"),
        "data_sha256": tags.get("data_sha256"),
        "config_hash": tags.get("config_hash"),
        "environment_lock_hash": lock_hash,
        "approver": tags.get("approval.by"),
        "approval_reason": tags.get("approval.reason"),
        "approved_at": tags.get("approval.at"),
        **result.as_dict(),
        "started_at": started_at,
        "decided_at": now(),
    }


def record(store_uri: str, version: registry.VersionInfo, evidence: dict[str, Any]) -> Path:
    """Write the record to the workspace, attach it to the version's run, tag the version."""
    stamp = evidence["decided_at"].replace(":", "").replace("-", "")
    path = workspace_root() / EVIDENCE_FOLDER / f"{version.name}-v{version.version}-{stamp}.json"
    write_json(path, evidence)
    if version.run_id:
        registry.attach_artifact(store_uri, version.run_id, path, EVIDENCE_FOLDER)
    registry.set_tags(
        version.name,
        version.version,
        {
            "gate.decision": evidence["decision"],
            "gate.mode": evidence["mode"],
            "gate.environment": evidence["environment"],
            "gate.decided_at": evidence["decided_at"],
            "gate.evidence": f"{EVIDENCE_FOLDER}/{path.name}",
        },
    )
    return path


def latest(store_uri: str, version: registry.VersionInfo) -> dict[str, Any]:
    """The newest evidence record of a version."""
    if not version.run_id:
        raise CreditopsError(f"version {version.version} has no run to hold evidence")
    files = registry.run_artifacts(store_uri, version.run_id, EVIDENCE_FOLDER)
    if not files:
        raise CreditopsError(
            f"no gate evidence for {version.name} version {version.version}: run 'creditops promote' first"
        )
    return json.loads(sorted(files)[-1].read_text(encoding="utf-8"))
