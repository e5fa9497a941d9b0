"""The reviewer's evidence in CI: which version's gate decision to show, its record and its model card."""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.files import write_text
from creditops.gate import evidence
from creditops.gate.evidence import EvidenceRecord
from creditops.gate.summary import CardPlace
from creditops.report.build import report_path
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo

CARD_FOLDER = "report"
"""The artifact folder of a version's run that holds its model card (where the gate attaches it)."""


@dataclass(frozen=True)
class Decision:
    """The newest gate decision of a version in one environment, and where its model card is."""

    version: VersionInfo
    record: EvidenceRecord
    card: CardPlace


def version_to_summarize(context: Context) -> str:
    """The version awaiting approval in the environment, else the newest with a gate decision there."""
    env = context.env.name
    gated = [
        info
        for info in Registry(context.store_uri).versions(context.model_name)
        if info.tags.get(names.GATE_ENVIRONMENT) == env and info.tags.get(names.GATE_DECISION)
    ]
    waiting = [info for info in gated if info.tags.get(names.GATE_DECISION) == names.AWAITING_APPROVAL]
    if not gated:
        raise CreditopsError(
            f"no version of {context.model_name} has a gate decision in {env}: run 'creditops ci release --env {env}'"
            " first"
        )
    return (waiting or gated)[0].version


def parse_since(text: str) -> datetime:
    """An ISO 8601 time with its offset (`date -u +%Y-%m-%dT%H:%M:%SZ`), as `--since` takes it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CreditopsError(f"--since {text!r} is not an ISO 8601 time: use e.g. 2026-12-05T04:10:00Z") from None
    if moment.tzinfo is None:
        raise CreditopsError(f"--since {text!r} has no UTC offset: end it with Z or +00:00")
    return moment


def decided_since(context: Context, since: datetime) -> Decision | None:
    """The newest gate decision recorded in this environment at or after `since` (the CI job's start):
    what this job decided, or None when it decided nothing (nothing to do, or it failed before the gate)."""
    try:
        found = decision(context, None)
    except CreditopsError:
        return None
    return found if datetime.fromisoformat(str(found.record.get("decided_at", ""))) >= since else None


def decision(context: Context, version: str | None) -> Decision:
    """The newest evidence record of `version` (default: `version_to_summarize`) in this environment."""
    env, registry = context.env.name, Registry(context.store_uri)
    info = registry.resolve(f"{context.model_name}/{version or version_to_summarize(context)}")
    if not info.run_id:
        raise CreditopsError(f"version {info.version} has no run to hold evidence")
    records = [
        cast(EvidenceRecord, json.loads(text))
        for _, text in registry.run_artifact_texts(info.run_id, evidence.EVIDENCE_FOLDER)
    ]
    here = [record for record in records if record.get("environment") == env]
    if not here:
        raise CreditopsError(
            f"no gate decision for {info.name} version {info.version} in {env}: run"
            f" 'creditops promote --env {env} --version {info.version}' or 'creditops ci release --env {env}' first"
        )
    card = report_path(context.reports_dir, info.name, info.version)
    attached = {name for name, _ in registry.run_artifact_texts(info.run_id, CARD_FOLDER)}
    place = CardPlace(
        file=str(card) if card.is_file() else None,
        run_id=info.run_id,
        artifact=f"{CARD_FOLDER}/{card.name}" if card.name in attached else None,
    )
    return Decision(info, max(here, key=lambda record: str(record.get("decided_at", ""))), place)


def copy_card(context: Context, found: Decision, folder: Path) -> Path:
    """The version's model card written into `folder`: this machine's copy, else its run's, else made now."""
    target = folder / report_path(context.reports_dir, found.version.name, found.version.version).name
    if found.card.file is not None:
        return write_text(target, Path(found.card.file).read_text(encoding="utf-8"))
    run_id = found.version.run_id or ""
    for name, text in Registry(context.store_uri).run_artifact_texts(run_id, CARD_FOLDER):
        if name == target.name:
            return write_text(target, text)
    from creditops.report.build import card_for_version

    return card_for_version(context, f"{found.version.name}/{found.version.version}", None, target)
