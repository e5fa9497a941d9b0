"""Build a model card for a registered version or a pipeline's candidate: lineage, champion, evidence."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditops.config.environments import GateSettings
from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.io import read_table
from creditops.data.split import split
from creditops.errors import CreditopsError
from creditops.flow import custody
from creditops.gate import evidence
from creditops.modelling.estimators import TrainedModel
from creditops.report.model_card import CardInputs, render
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo


def report_path(folder: Path, name: str, version: str | None, run_id: str | None = None) -> Path:
    """A registered version's card by its version; an unregistered run's by its run id (so a run that
    registers nothing never overwrites a version's card)."""
    label = f"v{version}" if version else f"run-{run_id[:12]}" if run_id else "candidate"
    return folder / f"{name}-{label}.html"


def card_for_version(context: Context, reference: str, data: Path | None, out: Path | None, note: str = "") -> Path:
    """The card of a registered version, judged on `data` or on the test split of its training data.

    The champion it is compared with is the one its latest gate decision compared it with (after a
    promotion the `champion` alias names the version itself); without a gate decision, the version the
    alias names now. `note` adds a line to the card's status (what a rollback did)."""
    store_uri = context.store_uri
    registry = Registry(store_uri)
    version = registry.resolve(reference)
    source = data or Path(version.tags.get(names.DATA_FILE, ""))
    if not source.is_file():
        raise CreditopsError(f"no data to judge {version.name} version {version.version} on: pass --data PATH")
    frame = read_table(source)
    model = registry.load(version)
    if data is None:
        settings = ModellingConfig().data
        labels = model.contract.labels(frame)
        frame = split(frame, labels, test_ratio=settings.test_train_ratio, seed=settings.random_seed)[1]
    records = evidence.history(registry, version)
    if context.environment is not None:  # a store shared by environments holds each one's decisions
        records = [record for record in records if record.get("environment") == context.environment.name]
    gate = next((record for record in reversed(records) if "checks" in record), None)
    champion = _compared_with(registry, version, gate)
    lineage: dict[str, str] = {key: version.tags[key] for key in names.LINEAGE if key in version.tags}
    lineage["mlflow run"] = f"{store_uri} · run {version.run_id}"
    return render(
        CardInputs(
            title=f"{version.name} version {version.version}",
            model=model,
            data=frame,
            threshold=float(version.tags.get(names.THRESHOLD, 0.5)),
            lineage=lineage,
            champion=None if champion is None else registry.load(champion),
            champion_label="" if champion is None else f"champion v{champion.version}",
            evidence=gate,
            gate=context.environment.gate if context.environment is not None else GateSettings(),
            status=_status(context, registry, version, records[-1] if records else None, note),
        ),
        out or report_path(context.reports_dir, version.name, version.version),
    )


def _compared_with(registry: Registry, version: VersionInfo, gate: Mapping[str, Any] | None) -> VersionInfo | None:
    """The champion the gate compared `version` with (None: it had none); without a gate decision, the
    version the `champion` alias names now, unless that is `version` itself."""
    if gate is not None:
        compared = gate.get("champion")
        if not isinstance(compared, Mapping) or not compared.get("version"):
            return None
        return registry.describe(version.name, str(compared["version"]))
    champion = registry.champion(version.name)
    if champion is None or names.CHAMPION not in champion.aliases or champion.version == version.version:
        return None
    return champion


def _status(
    context: Context, registry: Registry, version: VersionInfo, latest: Mapping[str, Any] | None, note: str
) -> str:
    """Where the version stands in the context's environment (else in its latest decision's) now."""
    env = context.environment.name if context.environment is not None else str((latest or {}).get("environment", ""))
    lines = [note] if note else []
    entry = None
    if env and context.environment is not None and context.environment.approval_required:
        entry = custody.ledger(registry, env, version.name).get(version.version)
    withdrawn = custody.withdrawal(version, env, entry) if env else None
    if withdrawn is not None:
        reason = version.tags.get(names.rollback_tag(env, "reason")) or str((latest or {}).get("reason", ""))
        lines.insert(0, f"Rolled back / withdrawn in {env}: {withdrawn}." + (f" Reason: {reason}." if reason else ""))
    elif names.CHAMPION in version.aliases:
        lines.insert(0, f"Champion in {env}." if env else "Champion.")
    elif names.PREVIOUS_CHAMPION in version.aliases:
        lines.insert(0, f"Previous champion in {env}: a rollback returns to it.")
    elif latest is not None:
        lines.insert(0, f"Latest decision in {latest.get('environment')}: {latest.get('decision')}.")
    return " ".join(lines)


def card_for_candidate(
    folder: Path,
    model: TrainedModel,
    test: pd.DataFrame,
    name: str,
    version: str | None,
    threshold: float,
    lineage: dict[str, str],
    champion: TrainedModel | None,
    champion_version: str | None,
    run_id: str | None = None,
    probability: np.ndarray | None = None,
    gate: GateSettings | None = None,
) -> Path:
    """The card the pipeline writes for the model it just trained (registered as `version`, or not);
    `gate`: the environment's limits for the fairness figures (None: the defaults)."""
    title = f"{name} version {version}" if version else f"{name} candidate (not registered)"
    inputs = CardInputs(
        title=title,
        model=model,
        data=test,
        threshold=threshold,
        lineage=lineage,
        champion=champion,
        champion_label=f"champion v{champion_version}" if champion is not None else "",
        probability=probability,
        gate=gate or GateSettings(),
    )
    return render(inputs, report_path(folder, name, version, run_id))
