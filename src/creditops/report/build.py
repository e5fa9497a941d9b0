"""Build a model card for a registered version or a pipeline's candidate: lineage, champion, evidence."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from creditops.config.environments import ENVIRONMENTS, GateSettings
from creditops.config.modelling import ModellingConfig
from creditops.context import Context, redacted
from creditops.data.io import read_table
from creditops.data.split import in_test_part, split
from creditops.errors import CreditopsError
from creditops.flow import custody
from creditops.gate import evidence
from creditops.modelling.estimators import TrainedModel
from creditops.report.model_card import CardInputs, Summary, render
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
        ratio, seed, hashed = _split_of(registry, version, context.modelling)
        labels = model.contract.labels(frame)
        if hashed:  # trained on a cluster: its test part is the seeded hash's, as the cluster split it
            frame = frame[in_test_part(frame, labels, model.contract.id_column, test_ratio=ratio, seed=seed)]
            judged_on = (
                f"the test part of {source} in the hashed split the cluster made (test ratio {ratio:g}, seed {seed})"
            )
        else:
            frame = split(frame, labels, test_ratio=ratio, seed=seed)[1]
            judged_on = f"the test split of {source} (test ratio {ratio:g}, seed {seed})"
    else:
        judged_on = f"the data passed with --data ({data})"
    every = evidence.history(registry, version)
    records = evidence.in_environment(every, None if context.environment is None else context.environment.name)
    gate = evidence.latest_decision(records)
    champion = _compared_with(registry, version, gate)
    lineage: dict[str, str] = {key: version.tags[key] for key in names.LINEAGE if key in version.tags}
    lineage["mlflow run"] = f"{store_uri} · run {version.run_id}"
    here = _standing(context, registry, version, records[-1] if records else None)
    summary = Summary(
        model=f"{version.name} version {version.version}",
        date=f"registered {_when(version.created_ms)}" if version.created_ms else "registration date not recorded",
        environments=environment_states(version, every, here, store=redacted(store_uri)),
        source=judged_on,
    )
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
            status=" ".join(part for part in (here.sentence, note) if part),
            summary=summary,
        ),
        out or report_path(context.reports_dir, version.name, version.version),
    )


def _split_of(registry: Registry, version: VersionInfo, modelling: ModellingConfig) -> tuple[float, int, bool]:
    """The test ratio and seed the version's run split its data with (so its card is judged on rows it never
    trained on), and whether that split was a cluster's hashed one; the context's modelling config for a
    run that did not log them."""
    logged = registry.run_params(version.run_id) if version.run_id else {}
    ratio = float(logged.get("data.test_train_ratio", modelling.data.test_train_ratio))
    return ratio, int(logged.get("data.random_seed", modelling.data.random_seed)), names.CLUSTER_SCHEDULER in logged


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


@dataclass(frozen=True)
class Standing:
    """Where a version stands in one environment (else in its store): `state` for the summary's row of
    that environment, `sentence` for the card's status line; both from the same aliases and records."""

    environment: str
    """The environment the store belongs to ("": a store with no environment and no decision)."""
    state: str
    sentence: str


def _standing(context: Context, registry: Registry, version: VersionInfo, latest: Mapping[str, Any] | None) -> Standing:
    """Where the version stands in the context's environment (else in its latest decision's) now: the
    context's store is that environment's, so its aliases and approvals ledger say so."""
    env = context.environment.name if context.environment is not None else str((latest or {}).get("environment", ""))
    entry = None
    if env and context.environment is not None and context.environment.approval_required:
        entry = custody.ledger(registry, env, version.name).get(version.version)
    withdrawn = custody.withdrawal(version, env, entry) if env else None
    reason = version.tags.get(names.rollback_tag(env, "reason")) or str((latest or {}).get("reason", ""))
    return standing(version, env, latest, withdrawn, reason)


def standing(
    version: VersionInfo, env: str, latest: Mapping[str, Any] | None, withdrawn: str | None, reason: str = ""
) -> Standing:
    """Where `version` stands in `env` from its aliases, its latest decision there and `withdrawn` (why it
    may not serve there, if it was rolled back and not approved since)."""
    if withdrawn is not None:
        sentence = f"Rolled back / withdrawn in {env}: {withdrawn}." + (f" Reason: {reason}." if reason else "")
        return Standing(env, "withdrawn (rolled back)", sentence)
    if names.CHAMPION in version.aliases:
        return Standing(env, "champion", f"Champion in {env}." if env else "Champion.")
    if names.PREVIOUS_CHAMPION in version.aliases:
        return Standing(
            env, "previous champion: a rollback returns to it", f"Previous champion in {env}: a rollback returns to it."
        )
    decision = str(latest.get("decision", "")) if latest is not None else ""
    state = _DECIDED.get(decision, decision)
    if names.CHALLENGER in version.aliases:
        state = "challenger" + (f" ({state})" if state else "")
    sentence = f"Latest decision in {latest.get('environment')}: {decision}." if latest is not None else ""
    return Standing(env, state or "registered, never gated", sentence)


_DECIDED: Final = {
    "promoted": "promoted earlier, no longer the champion",
    "blocked": "blocked by the gate",
    names.AWAITING_APPROVAL: "awaiting approval",
    names.ROLLED_BACK: "rolled back, approved again since",
}
"""A decision as the state it leaves a version in that is not (or no longer) the champion."""


def environment_states(
    version: VersionInfo, records: Sequence[Mapping[str, Any]], here: Standing, store: str
) -> tuple[tuple[str, str], ...]:
    """(environment, state) for dev, staging and prod, from this one store: `here`'s environment as it
    stands; another from the decisions and rollbacks this store keeps of it (a store that environments
    share), else "not known from this store" (each environment's own store numbers its own versions)."""
    rows = [] if here.environment in ENVIRONMENTS else [(f"this store ({store})", here.state)]
    for env in ENVIRONMENTS:
        if env == here.environment:
            rows.append((env, here.state))
            continue
        latest = next((record for record in reversed(records) if record.get("environment") == env), None)
        if custody.withdrawal(version, env) is not None:
            rows.append((env, "withdrawn (rolled back)"))
        elif latest is not None:
            when = str(latest.get("decided_at", ""))[:10]
            rows.append(
                (env, f"last decision this store records: {latest.get('decision')}" + (f" on {when}" if when else ""))
            )
        else:
            rows.append((env, "not known from this store"))
    return tuple(rows)


def _when(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    data_file = lineage.get(names.DATA_FILE)
    summary = Summary(
        model=f"{name} version {version}" if version else f"{name}: candidate, not registered",
        date=f"trained {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC (this run)",
        environments=_candidate_states(version),
        source="the run's test split" + (f" of {data_file}" if data_file else "") + " (rows it was not trained on)",
    )
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
        summary=summary,
    )
    return render(inputs, report_path(folder, name, version, run_id))


def _candidate_states(version: str | None) -> tuple[tuple[str, str], ...]:
    """A run's card is written before any gate, and the run knows only its own store."""
    if version is None:
        return tuple((env, "not registered") for env in ENVIRONMENTS)
    state = f"registered as version {version} in this run's store, before any gate decision"
    return (("Environments", f"{state}: 'creditops report' writes the card with its state"),)
