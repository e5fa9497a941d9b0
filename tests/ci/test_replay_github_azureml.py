"""The GitHub release workflow replayed with prod on Azure ML (`endpoint.target: azureml`), against the
persistent stand-in workspace, its jobs in separate processes as on separate runners.

release.yml → release-flow.yml runs as tests/ci/replay.py replays it (its harness imported, not
copied): each job's `run:` steps in a fresh clone, the `azure/login` step skipped like checkout (a `uses:`
step), the workflow's AZURE_* secrets mapped to dummy workspace names. Every creditops process of every job
opens the same workspace: the job variables set `CREDITOPS_AZUREML_CLIENT=tests.azure.standin:from_environment`
(the supported client hook), `CREDITOPS_STANDIN_ROOT` (the folder the workspace persists in) and
`PYTHONPATH` to this repository's root so that `tests.azure.standin` imports there. That is this tree, not
the clone: the clone is HEAD as committed, and the stand-in the test needs is the one of the code under
test. The team store is a shared SQLite file (the secrets name no store accounts).

The replay's clones commit the same tree with the same dates, so the deploy job's checkout is the
candidate job's commit, as on GitHub (the fingerprint of a version includes the commit).
"""

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.gate import evidence
from creditops.tracking.registry import Registry

from ..azure import standin
from ..azure.standin import StandInML
from . import replay

pytestmark = pytest.mark.e2e
ENDPOINT = "creditops-prod"
BATCH = "creditops-prod-batch"
FACTORY = "tests.azure.standin:from_environment"
AZURE_WORKSPACE = {
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000c11e",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000007e7",
    "AZURE_SUBSCRIPTION_ID": "0000",
    "AZURE_RESOURCE_GROUP": "rg",
    "AZUREML_WORKSPACE_NAME": "ws",
}


def _on_azure(clone: Callable[..., Path]) -> Callable[..., Path]:
    """The replay's clone with prod on Azure ML and small (a few trees, short rollouts), committed as the
    replay commits (the same commit in every job)."""

    def azure_clone(folder: Path, data: Path | None = None) -> Path:
        runner = clone(folder, data)
        path = runner / "config" / "environments" / "prod.yaml"
        settings = yaml.safe_load(path.read_text())
        settings["endpoint"]["target"] = "azureml"
        settings["rollout"].update(requests_per_step=10, steps=[50, 100], mirror=0)
        settings["gate"]["min_slice_rows"] = 50
        path.write_text(yaml.safe_dump(settings))
        modelling = json.loads((runner / "config" / "modelling.json").read_text())
        modelling["train"]["n_estimators"] = 20
        (runner / "config" / "modelling.json").write_text(json.dumps(modelling))
        dates = {**os.environ, "GIT_AUTHOR_DATE": replay.COMMITTED, "GIT_COMMITTER_DATE": replay.COMMITTED}
        identity = ["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
        amend = ["git", *identity, "commit", "-qa", "--amend", "--no-edit", f"--date={replay.COMMITTED}"]
        subprocess.run(amend, cwd=runner, env=dates, check=True)
        return runner

    return azure_clone


def test_github_release_on_azureml_trains_in_the_workspace_then_deploys_online_and_in_batch_once_approved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "_clone", _on_azure(replay._clone))
    data = tmp_path / "prod-data" / "credit_default.parquet"
    write_table(synthesize(1_500, 303), data)  # the production extract the runners hold
    store = f"sqlite:///{tmp_path / 'shared-store' / 'mlflow.db'}"
    (tmp_path / "shared-store").mkdir()
    workspace = tmp_path / "azureml-workspace"
    StandInML(workspace, store_uri=store, persist=True).changed()  # the workspace's jobs log into the store
    secrets = {**replay._store_secrets("prod", store, accounts=False), **AZURE_WORKSPACE}
    hook = {standin.ROOT_VARIABLE: str(workspace), "CREDITOPS_AZUREML_CLIENT": FACTORY, "PYTHONPATH": str(replay.REPO)}

    with replay._approvals_api(replay._github_reviews("4242", "prod", replay.APPROVER)) as api:
        run = replay.GitHubRun(
            tmp_path / "runners",
            secrets=secrets,
            github={"run_id": "4242", "token": "replay-token", "actor": "octocat"},
            variables={**replay._github_variables(api, "4242"), **hook},
            data=data,
            label="first",
        )
        # Given prod on Azure ML, when a release branch is pushed, the candidate job trains in the workspace
        # and publishes the version awaiting approval; the reviewer approves the deploy job, which deploys it
        first = run.workflow(replay.WORKFLOWS / "release.yml")
        assert first["prod/candidate"].status == "success", first["prod/candidate"].log
        assert first["prod/candidate"].outputs == {"awaiting": "true", "version": "1"}
        assert "awaiting-approval" in first["prod/candidate"].summary
        assert first["prod/deploy"].status == "success", first["prod/deploy"].log
        assert first["prod"].status == "success"
        assert api.asked == [f"/repos/{replay.REPOSITORY}/actions/runs/4242/approvals"]

        # When the branch is pushed again with nothing new, nothing is trained and nobody is asked
        run.label, run.github = "again", {**run.github, "run_id": "4243"}
        again = run.workflow(replay.WORKFLOWS / "release.yml")
        assert again["prod/candidate"].status == "success", again["prod/candidate"].log
        assert again["prod/candidate"].outputs == {"awaiting": "false", "version": ""}
        assert again["prod/deploy"].status == "skipped"
        assert again["prod"].status == "success"
        assert len(api.asked) == 1

    # Then the workspace, read from this process: one pipeline ran, the approved version serves online …
    ws = StandInML(workspace, persist=True)
    try:
        (pipeline,) = [call.removeprefix("job create ") for call in ws.calls if call.startswith("job create")]
        assert ws.job_status[pipeline] == "Completed"
        live = [name for name, percent in ws.endpoints[ENDPOINT].traffic.items() if percent == 100]
        assert len(live) == 1, ws.endpoints[ENDPOINT].traffic
        deployment = ws.deployments[ENDPOINT][live[0]]
        assert str(deployment.model).removeprefix("azureml:") == f"{replay.MODEL}:1"
        assert ws.score(ENDPOINT)["model_version"] == "1"
        # … and in batch, where its smoke job succeeded
        assert ws.batch[BATCH].defaults == {"deployment_name": "default"}
        deployed = ws.batch_deployed[(BATCH, "default")]
        assert str(deployed.model).removeprefix("azureml:") == f"{replay.MODEL}:1"
        (smoke,) = [name for name in ws.job_status if name.startswith("batch-")]
        assert ws.job_status[smoke] == "Completed"
        assert len(ws.job_outputs[smoke].read_text().splitlines()) == 1 + 200
    finally:
        ws.close()
    # and the champion's approval names the reviewer GitHub recorded
    replay._champion_and_approver(store, replay.APPROVER, reviewer=replay.APPROVER)
    registry = Registry(store)
    champion = registry.champion(replay.MODEL)
    assert champion is not None
    rollout = evidence.latest(registry, champion)["rollout"]
    assert rollout is not None
    assert rollout["batch"] == {
        "endpoint": BATCH,
        "model_version": "1",
        "smoke": "Completed",
    }
