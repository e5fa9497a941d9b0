"""GitHub Actions' monitor.yml replayed job by job on the endpoint's host (see replay.py)."""

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.smoke import post
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names
from creditops.tracking.registry import Registry

from .replay import (
    APPROVER,
    MODEL,
    WORKFLOWS,
    _approvals_api,
    _cli,
    _clone,
    _github_condition,
    _github_expand,
    _github_reviews,
    _github_variables,
    _is_install,
    _production_data,
    _run,
    _store_secrets,
)

pytestmark = pytest.mark.e2e


def test_github_monitor_workflow_retrains_when_outcomes_show_the_model_got_worse(runners: Path) -> None:
    workflow = yaml.safe_load((WORKFLOWS / "monitor.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"]
    jobs: dict[str, Any] = workflow["jobs"]
    assert jobs["deploy"]["needs"] == "monitor"
    assert jobs["deploy"]["environment"] == "prod"
    data = _production_data(runners / "prod-data")
    host = _clone(runners / "prod-host", data)  # self-hosted: the endpoint, its request log and both jobs live here
    subprocess.run(["git", "update-ref", "refs/remotes/origin/releases/1.0", "HEAD"], cwd=host, check=True)
    store = f"sqlite:///{runners / 'shared-store' / 'mlflow.db'}"
    (runners / "shared-store").mkdir()
    trainer = {"PROD_MLFLOW_TRACKING_URI": store, "LOGNAME": "ci-trainer"}
    reviewer = {"PROD_MLFLOW_TRACKING_URI": store, "LOGNAME": APPROVER}
    # production as it stands: version 1 approved and serving, then a month of traffic and its outcomes
    _cli(host, trainer, "ci", "release", "--env", "prod", expect=3)
    _cli(host, reviewer, "approve", "--env", "prod", "--version", "1", "--reason", "first release")
    _cli(host, reviewer, "ci", "release", "--env", "prod")
    traffic = ["--rows", "600", "--seed", "9", "--first-id", "300001", "--drift", "concept"]
    _cli(host, trainer, "data", "synth", *traffic, "--output", "month.csv", "--outcomes", "outcomes.csv")
    _cli(host, trainer, "endpoint", "--env", "prod", "invoke", "creditops-prod", "--data", "month.csv")
    data.unlink()  # this month's production extract
    _cli(host, trainer, "data", "synth", "--rows", "2500", "--seed", "404", "--drift", "concept", "--output", str(data))

    with _approvals_api(_github_reviews("4343", "prod", APPROVER)) as api:
        context: dict[str, Any] = {
            "secrets": {**_store_secrets("prod", store, accounts=False)},
            "inputs": {"outcomes": str(host / "outcomes.csv")},
            "github": {"run_id": "4343", "token": "replay-token"},
            "needs": {},
        }
        for job, identity in (("monitor", "ci-trainer"), ("deploy", APPROVER)):
            if job == "deploy":
                assert _github_condition(jobs[job]["if"], context, succeeded=True)  # so the deploy job runs
            steps: dict[str, Any] = {}
            for number, step in enumerate(jobs[job]["steps"]):
                if "run" not in step or _is_install(step["run"]):
                    continue
                outputs = runners / f"{job}-output-{number}"
                scope = {**context, "steps": steps, "env": {}}
                variables = {key: _github_expand(str(value), scope) for key, value in step.get("env", {}).items()}
                variables = {**variables, **_github_variables(api, "4343"), "GITHUB_OUTPUT": str(outputs)}
                variables["LOGNAME"] = identity  # who registers (the trainer) is not who approves
                _run(_github_expand(step["run"], scope), host, variables, ["bash", "-e", "-c"])
                if "id" in step:
                    steps[step["id"]] = {
                        "outputs": dict(line.split("=", 1) for line in outputs.read_text().splitlines())
                    }
            if job == "monitor":
                published = {
                    key: _github_expand(value, {**context, "steps": steps})
                    for key, value in jobs[job]["outputs"].items()
                }
                assert published == {"awaiting": "true", "version": "2"}
                context["needs"] = {"monitor": {"outputs": published}}
    registry = Registry(store)
    champion = registry.champion(MODEL)
    assert champion is not None
    assert champion.version == "2"
    assert champion.tags.get(names.APPROVAL_BY) == APPROVER
    reason = champion.tags.get(names.APPROVAL_REASON, "")
    assert f"reviewer {APPROVER} approved the retraining monitoring called for in GitHub environment prod" in reason
    attached = [name for name, _ in registry.run_artifact_texts(champion.run_id or "", "monitoring")]
    assert any(name.startswith("outcomes-prod-") for name in attached), attached
    os.environ["CREDITOPS_HOME"] = str(host / ".creditops")
    endpoint = state.load(from_process("prod").endpoints_dir, "creditops-prod")
    key = state.read_key(from_process("prod").endpoints_dir, "creditops-prod")
    assert post(endpoint.url, SAMPLE_REQUEST.read_bytes(), api_key=key).json()["model_version"] == "2"
