"""The release of an Azure ML environment against the stand-in workspace, end to end and in one process.

The training pipeline is rendered, submitted and really run by the stand-in (its four steps log and register
into the environment's MLflow store, as a job logs into its workspace's); the candidate waits for approval,
then rolls out blue/green on the managed online endpoint and goes to the batch endpoint, whose smoke job
scores the environment's data with the deployed model.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.errors import CreditopsError
from creditops.flow.release import AwaitingApprovalError, approve, release
from creditops.gate import evidence
from creditops.tracking import names
from creditops.tracking.registry import Registry

from .project import MODEL, inside, write_azure_project
from .standin import StandInML

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A checkout whose staging and prod endpoints are on Azure ML: small data, a few trees, short rollouts."""
    root = tmp_path_factory.mktemp("azure-release")
    write_azure_project(
        root,
        data={"rows": 1_500},
        rollout={"requests_per_step": 10, "steps": [50, 100], "mirror": 0},
        gate={"min_slice_rows": 50},
    )
    modelling = json.loads((root / "config" / "modelling.json").read_text())
    modelling["train"]["n_estimators"] = 20
    (root / "config" / "modelling.json").write_text(json.dumps(modelling))
    with inside(root, CREDITOPS_GIT_COMMIT="c0ffee"):
        yield root


def _workspace(root: Path, env: str, monkeypatch: pytest.MonkeyPatch) -> StandInML:
    """The environment's workspace: its MLflow store is the environment's (tracking_uri is the workspace's)."""
    standin = StandInML(root, store_uri=from_process(env).store_uri)
    monkeypatch.setattr("creditops.azure.workspace.client", lambda variables: standin)
    monkeypatch.setattr("creditops.azure.online.workspace_client", lambda variables: standin)
    return standin


def test_prod_trains_in_the_workspace_waits_for_approval_then_serves_online_and_in_batch(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path / "workspace", "prod", monkeypatch)
    context = from_process("prod")
    said: list[str] = []
    try:
        # Given a prod environment on Azure ML, when the candidate job releases, the pipeline trains in the
        # workspace and its version waits for a person's approval
        with pytest.raises(AwaitingApprovalError):
            release(context, say=said.append)
        (pipeline,) = ws.jobs.made
        assert ws.job_status[pipeline] == "Completed"
        registry = Registry(context.store_uri)
        (candidate,) = registry.versions(MODEL)
        assert candidate.tags[names.GATE_DECISION] == names.AWAITING_APPROVAL
        assert candidate.tags[names.GIT_COMMIT] == "c0ffee"
        assert "endpoint update creditops-prod" not in ws.calls  # nothing deployed before the approval

        # When it is approved and the deploy job releases again, the pipeline is not submitted again
        approve(context, candidate.version, by="reviewer", reason="holdout and slices reviewed")
        record = release(context, say=said.append)
        assert record is not None
        assert list(ws.jobs.made) == [pipeline]
        assert any("not submitting the training pipeline" in line for line in said)

        # Then the online endpoint serves the version to a client, and the batch endpoint has it smoke-tested
        assert record["decision"] == "promoted"
        assert ws.endpoints["creditops-prod"].traffic == {"blue": 100}
        answer = ws.score("creditops-prod")
        assert answer["model_version"] == candidate.version
        batch = record["rollout"]["batch"] if record["rollout"] else {}
        assert batch == {"endpoint": "creditops-prod-batch", "model_version": candidate.version, "smoke": "Completed"}
        deployed = ws.batch_deployed[("creditops-prod-batch", "default")]
        assert deployed.model.removeprefix("azureml:") == f"{MODEL}:{candidate.version}"
        (output,) = ws.job_outputs.values()
        assert len(output.read_text().splitlines()) == 1 + 200  # the header and every sampled row, scored
        assert registry.resolve(f"{MODEL}@{names.CHAMPION}").version == candidate.version
        assert evidence.latest(registry, candidate)["rollout"] == record["rollout"]
    finally:
        ws.close()


def test_a_failed_batch_smoke_test_is_one_line_and_in_the_evidence(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(tmp_path / "workspace", "staging", monkeypatch)
    ws.failing_batch.add("default")
    context = from_process("staging")
    try:
        with pytest.raises(CreditopsError) as raised:
            release(context, say=lambda _: None)
        message = str(raised.value)
        assert "\n" not in message
        assert "serves on the online endpoint but not in batch: batch smoke test failed: job batch-" in message
        assert "creditops azure batch-deploy --env staging" in message
        registry = Registry(context.store_uri)
        (version,) = registry.versions(MODEL)
        record = evidence.latest(registry, version)
        assert record["rollout"] is not None
        assert record["rollout"]["batch"]["smoke"] == "fail"
        assert "batch smoke test failed" in record["reason"]
        assert ws.endpoints["creditops-staging"].traffic == {"blue": 100}  # the online rollout stands
    finally:
        ws.close()
