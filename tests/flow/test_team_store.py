"""Two CI runners that share only the production store's URI: a real MLflow server on a real PostgreSQL."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.endpoints import manager, processes, state
from creditops.tracking import server, team_users

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    ),
]


ACCOUNTS = {"runner-a": ("ci-trainer", "trainer-password-1"), "runner-b": ("ana", "approver-password-1")}


def _creditops(project: Path, home: Path, store: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """One runner's command: its own workspace and account, the store only through the CI secret's variable."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    user, password = ACCOUNTS[home.name]
    environ |= {"CREDITOPS_HOME": str(home), "PROD_MLFLOW_TRACKING_URI": store}
    environ |= {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "creditops", *arguments], cwd=project, env=environ, capture_output=True, text=True
    )


def test_candidate_on_one_runner_approval_and_deploy_on_another_and_rollback_sticks(project: Path) -> None:
    store_workspace = project / "team-store"
    store = server.start(store_workspace)
    runner_a, runner_b = project / "runner-a", project / "runner-b"
    try:
        admin = server.admin_credentials(store_workspace)
        team_users.add(store.tracking_uri, admin, "ci-trainer", ACCOUNTS["runner-a"][1], "trainer")
        team_users.add(store.tracking_uri, admin, "ana", ACCOUNTS["runner-b"][1], "approver")
        assert server.status(store_workspace)[1]
        # Runner A: the candidate job retrains on prod data and stops for approval (exit 3)
        candidate = _creditops(project, runner_a, store.tracking_uri, "ci", "release", "--env", "prod")
        assert candidate.returncode == 3, candidate.stdout + candidate.stderr
        # Runner B: a fresh workspace finds the candidate in the shared store, approves and deploys it
        pending = _creditops(project, runner_b, store.tracking_uri, "gate", "pending", "--env", "prod")
        assert pending.stdout.strip() == "1", pending.stdout + pending.stderr
        approved = _creditops(
            project,
            runner_b,
            store.tracking_uri,
            "approve",
            "--env",
            "prod",
            "--version",
            "1",
            "--by",
            "ana",
            "--reason",
            "reviewed in the prod environment",
        )
        assert approved.returncode == 0, approved.stderr
        deployed = _creditops(project, runner_b, store.tracking_uri, "ci", "release", "--env", "prod")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "deployed to the local endpoint" in deployed.stdout
        report = _creditops(project, runner_a, store.tracking_uri, "gate", "report", "1", "--env", "prod")
        assert "promoted" in report.stdout
        assert "ana" in report.stdout
        # New code: version 2 from runner A, approved and released on B; then a rollback on B
        settings = json.loads((project / "config" / "modelling.json").read_text())
        settings["train"]["n_estimators"], settings["eval"]["tolerance"] = 150, 0.2
        (project / "config" / "modelling.json").write_text(json.dumps(settings))
        assert _creditops(project, runner_a, store.tracking_uri, "ci", "release", "--env", "prod").returncode == 3
        assert (
            _creditops(
                project,
                runner_b,
                store.tracking_uri,
                "approve",
                "--env",
                "prod",
                "--version",
                "2",
                "--by",
                "ana",
                "--reason",
                "more trees",
            ).returncode
            == 0
        )
        assert _creditops(project, runner_b, store.tracking_uri, "ci", "release", "--env", "prod").returncode == 0
        rolled = _creditops(
            project, runner_b, store.tracking_uri, "rollback", "--env", "prod", "--by", "bo", "--reason", "complaints"
        )
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        # A release with nothing changed, on the other runner, does not bring version 2 back
        again = _creditops(project, runner_a, store.tracking_uri, "ci", "release", "--env", "prod")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "version 2 was rolled back in prod" in again.stdout
        listed = _creditops(project, runner_a, store.tracking_uri, "models", "--env", "prod", "list")
        assert "champion" in listed.stdout
    finally:
        for home in (runner_a, runner_b):
            os.environ["CREDITOPS_HOME"] = str(home)
            context = from_process("prod")
            for name in state.names(context.endpoints_dir):
                manager.delete(context, name)
        os.environ["CREDITOPS_HOME"] = str(project / ".creditops")
        server.stop(store_workspace)
        shutil.rmtree(store.postgres_data or store_workspace, ignore_errors=True)  # a throwaway cluster
    assert not processes.alive(store.pid, marker=b"mlflow")
    assert not server.status(store_workspace)[1]
