"""The release workflows replayed as separate runners: each job in a fresh clone, sharing only the store.

GitHub Actions' release.yml (against a real MLflow server on PostgreSQL) and the Azure Pipelines
cicd.yml stages (against one shared store URI) run their `run:`/`script:` steps as written, with the
CI's secrets and variables mapped to the test's store. A change that breaks the hand-off between jobs
(what the candidate job leaves for the deploy job to find) fails here.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from creditops.context import from_process
from creditops.endpoints import manager, state
from creditops.endpoints.smoke import post
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names, server, team_users
from creditops.tracking.registry import Registry

from ..small_environments import write_small_environments

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parents[1]
APPROVER = "replay-reviewer"
GITHUB = r"\$\{\{(.*?)\}\}"
"""A GitHub Actions expression: `${{ secrets.NAME }}`."""
MACRO = r"\$\(([\w.]+)\)"
"""An Azure Pipelines macro: `$(name)`; `$(command …)` (bash's own substitution) does not match."""


def _clone(folder: Path) -> Path:
    """A fresh checkout of the commit under test, as a new runner has, with the test's virtualenv. Its
    environment files are made small (2,500 rows, a short gate): the steps and the hand-off are as written."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(folder)], check=True)
    (folder / ".venv").symlink_to(VENV)
    write_small_environments(folder)
    # committed, as a release branch would hold them: prod refuses a release from uncommitted changes
    identity = ["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
    subprocess.run(["git", *identity, "commit", "-qam", "small environments"], cwd=folder, check=True)
    return folder


def _environ(runner: Path, variables: Mapping[str, str]) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    return {**inherited, "CREDITOPS_HOME": str(runner / ".creditops"), **variables}


def _run(script: str, runner: Path, variables: Mapping[str, str], shell: list[str]) -> None:
    done = subprocess.run([*shell, script], cwd=runner, env=_environ(runner, variables), capture_output=True, text=True)
    assert done.returncode == 0, f"{script}\n--- exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _expand(text: str, pattern: str, values: Mapping[str, str]) -> str:
    """Replace every expression; one the test does not know fails the test (map it here on purpose)."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        assert expression in values, f"the replay does not know {match.group(0)!r}: map it in the test"
        return values[expression]

    return re.sub(pattern, value, text)


def _is_install(script: str) -> bool:
    return script.strip() == "make install"


def _prod_endpoint_answers(runner: Path) -> None:
    os.environ["CREDITOPS_HOME"] = str(runner / ".creditops")
    context = from_process("prod")
    endpoint = state.load(context.endpoints_dir, context.env.endpoint.name)
    answer = post(
        endpoint.url, SAMPLE_REQUEST.read_bytes(), api_key=state.read_key(context.endpoints_dir, endpoint.name)
    )
    assert answer.status_code == 200
    assert answer.json()["model_version"] == "1"


def _champion_and_approver(store_uri: str, via: str = "local name", reviewer: str | None = None) -> None:
    registry = Registry(store_uri)
    champion = registry.champion("credit_default_model")
    assert champion is not None
    assert champion.version == "1"
    assert champion.tags.get(names.APPROVAL_BY) == APPROVER
    assert champion.tags.get(names.APPROVAL_VIA) == via
    if reviewer is not None:
        assert reviewer in champion.tags.get(names.APPROVAL_REASON, "")
    records = [text for _name, text in registry.run_artifact_texts(champion.run_id or "", "evidence")]
    assert any('"decision": "promoted"' in text and APPROVER in text for text in records)


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    home = os.environ.get("CREDITOPS_HOME")
    for runner in tmp_path.iterdir():
        if (runner / ".creditops").is_dir():
            os.environ["CREDITOPS_HOME"] = str(runner / ".creditops")
            for env in ("dev", "staging", "prod"):
                context = from_process(env)
                for name in state.names(context.endpoints_dir):
                    manager.delete(context, name)
    if home is None:
        os.environ.pop("CREDITOPS_HOME", None)
    else:
        os.environ["CREDITOPS_HOME"] = home


@pytest.mark.skipif(not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql)")
def test_github_release_workflow_hands_off_from_candidate_to_deploy_through_the_team_store(
    runners: Path, reachable: Path
) -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    jobs: dict[str, Any] = workflow["jobs"]
    assert [jobs["candidate"]["needs"], jobs["deploy"]["needs"]] == ["validate", "candidate"]
    assert jobs["deploy"]["environment"] == "prod"  # the reviewers' approval gates the deploy job
    validate = [step["run"] for step in jobs["validate"]["steps"] if "run" in step]
    assert validate[-1].startswith(".venv/bin/creditops ci pr-validation")  # run by `make test` itself
    store = server.start(runners / "team-store", data_dir=reachable / "postgres")
    try:
        admin = server.admin_credentials(runners / "team-store")
        team_users.add(store.tracking_uri, admin, "ci-trainer", "trainer-password-1", "trainer")
        team_users.add(store.tracking_uri, admin, APPROVER, "approver-password-1", "approver")
        expressions = {
            "secrets.PROD_MLFLOW_TRACKING_URI": store.tracking_uri,
            "secrets.PROD_MLFLOW_TRAINER_USERNAME": "ci-trainer",
            "secrets.PROD_MLFLOW_TRAINER_PASSWORD": "trainer-password-1",
            "secrets.PROD_MLFLOW_APPROVER_USERNAME": APPROVER,
            "secrets.PROD_MLFLOW_APPROVER_PASSWORD": "approver-password-1",
            "github.actor": "octocat",
            "github.run_id": "4242",
        }
        for job in ("candidate", "deploy"):
            runner = _clone(runners / job)
            for step in jobs[job]["steps"]:
                if "run" not in step or _is_install(step["run"]):
                    continue  # checkout and setup-python: the clone and the virtualenv
                pattern = r"\$\{\{(.*?)\}\}"
                variables = {
                    key: _expand(str(value), pattern, expressions) for key, value in step.get("env", {}).items()
                }
                _run(_expand(step["run"], pattern, expressions), runner, variables, ["bash", "-e", "-c"])
        with team_users.signed_in(store.tracking_uri, admin):
            _champion_and_approver(store.tracking_uri, via="authenticated store", reviewer="octocat")
        _prod_endpoint_answers(runners / "deploy")
    finally:
        server.stop(runners / "team-store")
        shutil.rmtree(store.postgres_data or runners / "team-store", ignore_errors=True)


def _azure_steps(template: Path, parameters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """The steps of a job template in order, install templates expanded, compile-time parameters filled."""
    text = _expand(template.read_text(), r"\$\{\{\s*parameters\.(\w+)\s*\}\}", parameters)
    document = yaml.safe_load(text)
    if "steps" in document:  # a steps template
        steps = document["steps"]
    else:  # a job template: a job, or a deployment job's runOnce strategy
        (job,) = document["jobs"]
        steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
    for step in _chosen(steps, parameters):
        if "template" in step:
            given = {key: str(value) for key, value in step.get("parameters", {}).items()}
            yield from _azure_steps(template.parent / step["template"], {**parameters, **given})
        else:
            yield step


_IF_SET = re.compile(r"\$\{\{\s*if ne\(parameters\.(\w+), ''\)\s*\}\}")


def _chosen(steps: list[dict[str, Any]], parameters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """The steps with compile-time `${{ if ne(parameters.X, '') }}` / `${{ else }}` branches resolved."""
    taken = False
    for step in steps:
        (key, *_) = step
        condition = _IF_SET.fullmatch(key)
        if condition is not None:
            taken = bool(parameters.get(condition[1]))
            yield from step[key] if taken else []
        elif re.fullmatch(r"\$\{\{\s*else\s*\}\}", key):
            yield from [] if taken else step[key]
        else:
            yield step


def test_azure_pipelines_stages_hand_off_from_candidate_to_deploy(runners: Path) -> None:
    pipelines = REPO / "operations" / "azure_pipelines"
    cicd = yaml.safe_load((pipelines / "cicd.yml").read_text())
    stages = {stage["stage"]: stage for stage in cicd["stages"]}
    assert [stages["candidate"]["dependsOn"], stages["deploy"]["dependsOn"]] == ["validate", "candidate"]
    variables = {
        item["name"]: item["value"]
        for item in yaml.safe_load((pipelines / "templates" / "variables-prod.yml").read_text())["variables"]
    }
    shared = f"sqlite:///{runners / 'shared-store' / 'mlflow.db'}"
    (runners / "shared-store").mkdir()
    macros = {"mlflowTrackingUri": shared, "Build.RequestedFor": APPROVER}
    parameters = {
        "environment": variables["creditopsEnvironment"],
        "azureDevOpsEnvironment": variables["azureDevOpsEnvironment"],
        "azureServiceConnection": variables["azureServiceConnection"],
        "pythonVersion": "3.11",
    }
    for stage in ("candidate", "deploy"):
        (job,) = stages[stage]["jobs"]
        runner = _clone(runners / stage)
        for step in _azure_steps(pipelines / job["template"], parameters):
            if "script" not in step or _is_install(step["script"]):
                continue  # UsePythonVersion and checkout: the clone and the virtualenv
            env = {key: _expand(str(value), r"\$\((.*?)\)", macros) for key, value in step.get("env", {}).items()}
            _run(
                _expand(step["script"], r"\$\(([\w.]+)\)", macros), runner, env, ["bash", "--noprofile", "--norc", "-c"]
            )
    _champion_and_approver(shared)
    _prod_endpoint_answers(runners / "deploy")


def _cli(runner: Path, variables: Mapping[str, str], *arguments: str, expect: int = 0) -> str:
    done = subprocess.run(
        [str(runner / ".venv" / "bin" / "creditops"), *arguments],
        cwd=runner,
        env=_environ(runner, variables),
        capture_output=True,
        text=True,
    )
    assert done.returncode == expect, f"{arguments}\n--- exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr}"
    return done.stdout


def test_github_monitor_workflow_retrains_when_outcomes_show_the_model_got_worse(runners: Path) -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "monitor.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert triggers["schedule"][0]["cron"]
    jobs: dict[str, Any] = workflow["jobs"]
    assert jobs["deploy"]["needs"] == "monitor"
    assert jobs["deploy"]["environment"] == "prod"
    host = _clone(runners / "prod-host")  # self-hosted: the endpoint, its request log and both jobs live here
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
    data = yaml.safe_load((host / "config" / "environments" / "prod.yaml").read_text())["data"]["path"]
    _cli(host, trainer, "data", "synth", "--rows", "2500", "--seed", "404", "--drift", "concept", "--output", data)

    outputs = runners / "github-output"
    expressions = {
        "secrets.PROD_MLFLOW_TRACKING_URI": store,
        "secrets.PROD_MLFLOW_TRAINER_USERNAME": "",
        "secrets.PROD_MLFLOW_TRAINER_PASSWORD": "",
        "secrets.PROD_MLFLOW_APPROVER_USERNAME": "",
        "secrets.PROD_MLFLOW_APPROVER_PASSWORD": "",
        "inputs.outcomes": str(host / "outcomes.csv"),
        "steps.monitor.outputs.awaiting": "",
        "github.actor": "octocat",
        "github.run_id": "4343",
    }
    for job, identity in (("monitor", "ci-trainer"), ("deploy", APPROVER)):
        for step in jobs[job]["steps"]:
            if "run" not in step or _is_install(step["run"]):
                continue
            variables = {key: _expand(str(value), GITHUB, expressions) for key, value in step.get("env", {}).items()}
            variables = {**variables, "LOGNAME": identity, "GITHUB_OUTPUT": str(outputs)}
            _run(_expand(step["run"], GITHUB, expressions), host, variables, ["bash", "-e", "-c"])
        if job == "monitor":
            assert outputs.read_text().splitlines() == ["awaiting=true"]  # so the deploy job runs
    registry = Registry(store)
    champion = registry.champion("credit_default_model")
    assert champion is not None
    assert champion.version == "2"
    assert champion.tags.get(names.APPROVAL_BY) == APPROVER
    assert "approved the retraining monitoring called for" in champion.tags.get(names.APPROVAL_REASON, "")
    attached = [name for name, _ in registry.run_artifact_texts(champion.run_id or "", "monitoring")]
    assert any(name.startswith("outcomes-prod-") for name in attached), attached
    os.environ["CREDITOPS_HOME"] = str(host / ".creditops")
    endpoint = state.load(from_process("prod").endpoints_dir, "creditops-prod")
    key = state.read_key(from_process("prod").endpoints_dir, "creditops-prod")
    assert post(endpoint.url, SAMPLE_REQUEST.read_bytes(), api_key=key).json()["model_version"] == "2"
