"""Build a model card for a registered version or a pipeline's candidate: lineage, champion, evidence."""

from pathlib import Path

import numpy as np
import pandas as pd

from creditops.config.environments import GateSettings
from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.io import read_table
from creditops.data.split import split
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.gate.evidence import EvidenceRecord
from creditops.modelling.estimators import TrainedModel
from creditops.report.model_card import CardInputs, render
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo


def report_path(folder: Path, name: str, version: str | None, run_id: str | None = None) -> Path:
    """A registered version's card by its version; an unregistered run's by its run id (so a run that
    registers nothing never overwrites a version's card)."""
    label = f"v{version}" if version else f"run-{run_id[:12]}" if run_id else "candidate"
    return folder / f"{name}-{label}.html"


def card_for_version(context: Context, reference: str, data: Path | None, out: Path | None) -> Path:
    """The card of a registered version, judged on `data` or on the test split of its training data."""
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
    champion = registry.champion(version.name)
    champion_model = None
    if champion is not None and names.CHAMPION in champion.aliases and champion.version != version.version:
        champion_model = registry.load(champion)
    lineage: dict[str, str] = {key: version.tags[key] for key in names.LINEAGE if key in version.tags}
    lineage["mlflow run"] = f"{store_uri} · run {version.run_id}"
    return render(
        CardInputs(
            title=f"{version.name} version {version.version}",
            model=model,
            data=frame,
            threshold=float(version.tags.get(names.THRESHOLD, 0.5)),
            lineage=lineage,
            champion=champion_model,
            champion_label=f"champion v{champion.version}" if champion is not None and champion_model else "",
            evidence=_evidence(registry, version),
            gate=context.environment.gate if context.environment is not None else GateSettings(),
        ),
        out or report_path(context.reports_dir, version.name, version.version),
    )


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


def _evidence(registry: Registry, version: VersionInfo) -> EvidenceRecord | None:
    try:
        return evidence.latest(registry, version)
    except CreditopsError:
        return None
