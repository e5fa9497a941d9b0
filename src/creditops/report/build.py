"""Build a model card for a registered version or a pipeline's candidate: lineage, champion, evidence."""

from pathlib import Path

import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.data.io import read_table
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.modelling.estimators import TrainedModel
from creditops.report.model_card import CardInputs, render
from creditops.steps.data_prep import split
from creditops.tracking import registry
from creditops.workspace import workspace_root

LINEAGE_TAGS = ("git_commit", "data_file", "data_sha256", "config_hash", "algorithm", "creditops.fingerprint")


def report_path(name: str, version: str | None) -> Path:
    return workspace_root() / "reports" / f"{name}-{'v' + version if version else 'candidate'}.html"


def card_for_version(store_uri: str, reference: str, data: Path | None, out: Path | None) -> Path:
    """The card of a registered version, judged on `data` or on the test split of its training data."""
    version = registry.resolve(store_uri, reference)
    source = data or Path(version.tags.get("data_file", ""))
    if not source.is_file():
        raise CreditopsError(f"no data to judge {version.name} version {version.version} on: pass --data PATH")
    frame = read_table(source)
    if data is None:
        settings = ModellingConfig().data
        frame = split(frame, test_ratio=settings.test_train_ratio, seed=settings.random_seed)[1]
    champion = registry.champion(store_uri, version.name)
    champion_model = None
    if champion is not None and registry.CHAMPION in champion.aliases and champion.version != version.version:
        champion_model = registry.load(store_uri, champion.uri)
    lineage = {key: version.tags[key] for key in LINEAGE_TAGS if key in version.tags}
    lineage["mlflow run"] = f"{store_uri} · run {version.run_id}"
    return render(
        CardInputs(
            title=f"{version.name} version {version.version}",
            model=registry.load(store_uri, version.uri),
            data=frame,
            threshold=float(version.tags.get(registry.THRESHOLD_TAG, 0.5)),
            lineage=lineage,
            champion=champion_model,
            champion_label=f"champion v{champion.version}" if champion_model else "",
            evidence=_evidence(store_uri, version),
        ),
        out or report_path(version.name, version.version),
    )


def card_for_candidate(
    model: TrainedModel,
    test: pd.DataFrame,
    name: str,
    version: str | None,
    threshold: float,
    lineage: dict[str, str],
    champion: TrainedModel | None,
    champion_version: str | None,
) -> Path:
    """The card the pipeline writes for the model it just trained."""
    title = f"{name} version {version}" if version else f"{name} candidate (not registered)"
    inputs = CardInputs(
        title=title,
        model=model,
        data=test,
        threshold=threshold,
        lineage=lineage,
        champion=champion,
        champion_label=f"champion v{champion_version}" if champion is not None else "",
    )
    return render(inputs, report_path(name, version))


def _evidence(store_uri: str, version: registry.VersionInfo) -> dict | None:
    try:
        return evidence.latest(store_uri, version)
    except CreditopsError:
        return None
