"""The release on an Azure ML environment (`endpoint.target: azureml`): the training pipeline runs in the
workspace instead of on the CI runner, and the version the release promotes goes to the batch endpoint too.

`creditops.flow.release.release` calls `train_in_workspace` where it would train locally, and
`release_batch` after the blue/green rollout on the managed online endpoint (which `AzureMLTarget` does).
The pipeline's register step registers the candidate in the MLflow registry the job logs into: the
environment's `tracking_uri` must be the workspace's MLflow store (`azureml://…`) for the release to find it.
"""

from pathlib import Path
from typing import Any, Final

from creditops.azure import workspace
from creditops.azure.batch import batch_smoke, deploy_batch, endpoint_name
from creditops.azure.render import CONFIG_FOLDER, CONFIG_NAME, render
from creditops.azure.submit import submit
from creditops.config.modelling import load_modelling_config
from creditops.context import Context
from creditops.data.io import read_table, write_table
from creditops.data.location import DataLocation, sha256
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.gate.evidence import EvidenceRecord
from creditops.say import Say
from creditops.tracking.lineage import fingerprint, git_commit
from creditops.tracking.registry import Registry, VersionInfo

SPECS_FOLDER: Final = "azureml"
"""Where in the environment's workspace a release renders the specs it submits."""
SMOKE_FOLDER: Final = "batch-smoke"
SMOKE_ROWS: Final = 200
"""Rows of the environment's data the batch smoke test scores: enough to touch every category, seconds to run."""


def client(context: Context) -> Any:
    """An MLClient on the environment's workspace (see `creditops.azure.workspace.client`)."""
    return workspace.client(context.azure_workspace)


def train_in_workspace(context: Context, data: DataLocation, *, say: Say = print, ml: Any = None) -> str | None:
    """Render the specs, submit the training pipeline and wait for it; the version its register step
    registered, or the one an earlier pipeline registered from the same data, config and code (nothing is
    submitted then). None when the pipeline registered nothing (its evaluate step found the model no better)."""
    commit = git_commit(Path.cwd(), context.commit_override)
    specs = context.workspace / SPECS_FOLDER
    render(context.env, context.modelling, Path.cwd(), specs, label=commit[:12], commit=commit)
    known = _registered_from(context, specs, data, commit)
    if known is not None:
        say(f"not submitting the training pipeline: the same data, config and code made version {known.version}")
        return known.version
    submit(specs, context.azure_workspace, say=say, ml=client(context) if ml is None else ml)
    found = _registered_from(context, specs, data, commit)
    if found is None:
        say(
            f"the training pipeline registered no version of {context.model_name} from this data, config and code"
            f" in {context.env.name}'s registry (its evaluate step found it no better than the champion, or"
            " tracking_uri is not the workspace's MLflow store)"
        )
        return None
    say(f"trained on Azure ML: {context.model_name} version {found.version}")
    return found.version


def _registered_from(context: Context, specs: Path, data: DataLocation, commit: str) -> VersionInfo | None:
    """The version the pipeline registers for this data, config and code, found by the fingerprint its train
    step computes: over the rendered config (the one the job reads) and the commit the specs pass it."""
    rendered = load_modelling_config(specs / CONFIG_FOLDER / CONFIG_NAME)
    expected = fingerprint(data_sha256=sha256(data), config_hash=rendered.digest(), commit=commit)
    return Registry(context.store_uri).find_by_fingerprint(context.model_name, expected)


def release_batch(context: Context, record: EvidenceRecord, *, say: Say = print, ml: Any = None) -> EvidenceRecord:
    """Deploy the promoted version of `record` to the environment's batch endpoint and run its batch smoke
    test on a sample of the environment's data; the evidence again, with the outcome under
    `rollout.batch`. A failed deployment or smoke test is recorded, then raised as one line."""
    ml = client(context) if ml is None else ml
    version = record["model_version"]
    outcome: dict[str, Any] = {"endpoint": endpoint_name(context), "model_version": version}
    try:
        deploy_batch(ml, context, f"models:/{context.model_name}/{version}", say=say)
        outcome["smoke"] = batch_smoke(ml, context, smoke_sample(context), say=say)
    except CreditopsError as failure:
        outcome.update(smoke="fail", detail=str(failure))
        _record(context, record, outcome, f"; batch endpoint: {failure}")
        raise CreditopsError(
            f"version {version} serves on the online endpoint but not in batch: {failure}"
            f" (recorded in the evidence; fix it and run 'creditops azure batch-deploy --env {context.env.name}"
            f" --model models:/{context.model_name}/{version}')"
        ) from failure
    return _record(context, record, outcome, f"; batch endpoint {outcome['endpoint']} smoke-tested")


def smoke_sample(context: Context) -> Path:
    """A folder holding the first rows of the environment's data, what the batch smoke test scores."""
    contract = context.modelling.contract()
    rows = read_table(context.env.data.path, contract).head(SMOKE_ROWS)
    return write_table(rows, context.workspace / SMOKE_FOLDER / "sample.csv").parent


def _record(context: Context, record: EvidenceRecord, outcome: dict[str, Any], said: str) -> EvidenceRecord:
    registry = Registry(context.store_uri)
    version = registry.describe(record["model_name"], record["model_version"])
    updated = EvidenceRecord(**record)
    updated["rollout"] = {**(record["rollout"] or {}), "batch": outcome}
    updated["reason"] = record["reason"] + said
    updated["decided_at"] = evidence.now()
    evidence.record(registry, context.evidence_dir, version, updated)
    return updated
