"""Two CI runners sharing only the team store, a real authenticated MLflow server on PostgreSQL: who may do
what (roles, identity, four eyes), the hand-off from one runner's candidate to another's deploy, and a
rollback that sticks."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from creditops import processes
from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names, server, team_users
from creditops.tracking.registry import Registry

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    ),
]
PASSWORDS = {"vic": "viewer-password-1", "tina": "trainer-password-1", "ana": "approver-password-1"}


def _as(
    project: Path, store: str, user: str | None, *arguments: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    environ |= {"CREDITOPS_HOME": str(project / f"runner-{user}"), "PROD_MLFLOW_TRACKING_URI": store}
    if user is not None:
        environ |= {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password or PASSWORDS[user]}
    return subprocess.run(
        [sys.executable, "-m", "creditops", *arguments], cwd=project, env=environ, capture_output=True, text=True
    )


def _one_line_refusal(done: subprocess.CompletedProcess[str], text: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert text in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # one message, wrapped at most by the terminal width


def _served(project: Path, runner: str) -> str:
    os.environ["CREDITOPS_HOME"] = str(project / f"runner-{runner}")
    try:
        context = from_process("prod")
        answer = LocalTarget(context, context.env.endpoint.name).invoke(SAMPLE_REQUEST.read_bytes())
    finally:
        os.environ["CREDITOPS_HOME"] = str(project / ".creditops")
    return str(answer.json()["model_version"])


def _champion(uri: str, admin: tuple[str, str]) -> str | None:
    with team_users.signed_in(uri, admin):
        found = Registry(uri).versions("credit_default_model")
    return next((info.version for info in found if names.CHAMPION in info.aliases), None)


def test_runners_share_the_store_each_account_does_only_its_part_and_rollback_sticks(
    project: Path, reachable: Path
) -> None:
    home = project / "team-store"
    store = server.start(home, data_dir=reachable / "postgres")
    uri = store.tracking_uri
    try:
        search = f"{uri}/api/2.0/mlflow/experiments/search?max_results=1"
        assert httpx.get(search).status_code == 401
        assert httpx.get(search, auth=("admin", "password1234")).status_code == 401  # no well-known password
        assert httpx.get(search, auth=server.admin_credentials(home)).status_code == 200
        secret = home / "server" / "auth" / "admin.secret"
        assert secret.stat().st_mode & 0o777 == 0o600
        assert secret.read_text().strip() not in (home / "server" / "auth" / "basic_auth.ini").read_text()

        admin = server.admin_credentials(home)
        for user, role in (("vic", "viewer"), ("tina", "trainer"), ("ana", "approver")):
            team_users.add(uri, admin, user, PASSWORDS[user], role)
        assert team_users.role_of(uri, admin, "ana") == "approver"

        _one_line_refusal(_as(project, uri, None, "ci", "release", "--env", "prod"), "wants an account")
        wrong = _as(project, uri, "tina", "models", "show", "credit_default_model/1", "--env", "prod", password="x")
        _one_line_refusal(wrong, "wants an account")  # a wrong password is not "no versions"
        candidate = _as(project, uri, "tina", "ci", "release", "--env", "prod")
        assert candidate.returncode == 3, candidate.stdout + candidate.stderr
        with team_users.signed_in(uri, ("vic", PASSWORDS["vic"])), pytest.raises(MlflowException) as refused:
            mlflow.MlflowClient(uri, uri).create_model_version("credit_default_model", "runs:/0/model")
        assert refused.value.error_code == "PERMISSION_DENIED"  # a viewer cannot register a version
        approve = ("approve", "--env", "prod", "--version", "1", "--reason", "reviewed")
        _one_line_refusal(_as(project, uri, "vic", *approve), "needs the approver role")
        _one_line_refusal(_as(project, uri, "tina", *approve), "needs the approver role")
        _one_line_refusal(_as(project, uri, "ana", *approve, "--by", "bob"), "is not the store's signed-in account")

        team_users.set_role(uri, admin, "tina", "approver")  # even as an approver, not its own candidate,
        rewritten = httpx.post(  # not even after rewriting the version's registered.by tag, as EDIT allows
            f"{uri}/api/2.0/mlflow/model-versions/set-tag",
            json={"name": "credit_default_model", "version": "1", "key": names.REGISTERED_BY, "value": "bob"},
            auth=("tina", PASSWORDS["tina"]),
        )
        assert rewritten.status_code == 200
        with team_users.signed_in(uri, admin):  # the server recorded who registered it, where tina cannot write
            assert Registry(uri).model_tags("creditops-registrants")["registrant.credit_default_model.1"] == "tina"
        stamp = {"name": "creditops-registrants", "key": "registrant.credit_default_model.1", "value": "bob"}
        forged = httpx.post(
            f"{uri}/api/2.0/mlflow/registered-models/set-tag", json=stamp, auth=("tina", PASSWORDS["tina"])
        )
        assert forged.status_code == 403
        _one_line_refusal(_as(project, uri, "tina", *approve), "tina registered version 1 and may not approve it")
        team_users.set_role(uri, admin, "tina", "trainer")

        _one_line_refusal(_as(project, uri, "vic", "promote", "--env", "prod", "--version", "1"), "approver role")
        approved = _as(project, uri, "ana", *approve)
        assert approved.returncode == 0, approved.stdout + approved.stderr
        assert "by ana (authenticated store)" in approved.stdout
        released = _as(project, uri, "ana", "ci", "release", "--env", "prod")
        assert released.returncode == 0, released.stdout + released.stderr
        with team_users.signed_in(uri, admin):
            champion = Registry(uri).champion("credit_default_model")
            assert champion is not None
            assert champion.tags[names.REGISTERED_BY] == "bob"  # the tag tina rewrote; four eyes did not read it
            assert champion.tags[names.APPROVAL_BY] == "ana"
            assert champion.tags[names.APPROVAL_VIA] == "authenticated store"
        assert "deployed to the local endpoint" in released.stdout
        report = _as(project, uri, "vic", "gate", "report", "1", "--env", "prod")
        assert "promoted" in report.stdout
        assert "authenticated store" in report.stdout

        # New code: version 2 trained on tina's runner, approved and released on ana's, then rolled back there
        settings = json.loads((project / "config" / "modelling.json").read_text())
        settings["train"]["n_estimators"], settings["eval"]["tolerance"] = 150, 0.2
        (project / "config" / "modelling.json").write_text(json.dumps(settings))
        assert _as(project, uri, "tina", "ci", "release", "--env", "prod").returncode == 3
        assert (
            _as(project, uri, "ana", "approve", "--env", "prod", "--version", "2", "--reason", "more trees").returncode
            == 0
        )
        assert _as(project, uri, "ana", "ci", "release", "--env", "prod").returncode == 0
        # Rolling back is an approver's decision, made as the account signed in: checked before anything moves
        back = ("rollback", "--env", "prod", "--reason", "complaints")
        _one_line_refusal(_as(project, uri, "vic", *back), "needs the approver role")
        _one_line_refusal(_as(project, uri, "tina", *back), "needs the approver role")
        _one_line_refusal(_as(project, uri, "ana", *back, "--by", "bo"), "is not the store's signed-in account ana")
        assert (_served(project, "ana"), _champion(uri, admin)) == ("2", "2")
        rolled = _as(project, uri, "ana", *back)
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert (_served(project, "ana"), _champion(uri, admin)) == ("1", "1")
        # A second rollback does not bring back what the first withdrew
        _one_line_refusal(_as(project, uri, "ana", *back), "no earlier champion in prod that is approved")
        assert (_served(project, "ana"), _champion(uri, admin)) == ("1", "1")
        # A release with nothing changed, on the other runner, does not bring version 2 back
        again = _as(project, uri, "tina", "ci", "release", "--env", "prod", "--port", str(processes.free_port()))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "version 2 was rolled back in prod" in again.stdout
        assert _served(project, "tina") == "1"  # the runner's endpoint serves the champion

        # The trainer moves the alias through MLflow's REST API, as its EDIT allows: status says so, and an
        # approver's rollback restores the approved champion
        moved = httpx.post(
            f"{uri}/api/2.0/mlflow/registered-models/alias",
            json={"name": "credit_default_model", "alias": "champion", "version": "2"},
            auth=("tina", PASSWORDS["tina"]),
        )
        assert moved.status_code == 200
        shown = _as(project, uri, "vic", "status", "--env", "prod")
        assert shown.returncode == 1
        assert "custody: the champion alias in prod names version 2" in shown.stdout.replace("\n", " ")
        assert _as(project, uri, "ana", *back).returncode == 0
        assert _champion(uri, admin) == "1"

        # A viewer may score but not log a batch: refused before anything is scored or written
        data = project / ".creditops" / "envs" / "prod" / "data" / "credit_default.parquet"
        viewed = [*("score", "--model", "models:/credit_default_model@champion", "--env", "prod", "--data")]
        viewed += [str(data), "--output", str(project / "viewed.parquet")]
        _one_line_refusal(_as(project, uri, "vic", *viewed), "the team store refused: this account may not do that")
        assert not list(project.glob("*viewed*"))
        assert _as(project, uri, "vic", *viewed, "--no-logging").returncode == 0
        assert len(pd.read_parquet(project / "viewed.parquet")) == 2_500

        # The trainer replaces the approved model's file through the artifact API: no load accepts it
        with team_users.signed_in(uri, admin):
            source = mlflow.MlflowClient(uri, uri).get_model_version_download_uri("credit_default_model", "1")
        path = source.removeprefix("mlflow-artifacts:/").strip("/")
        swapped = httpx.put(
            f"{uri}/api/2.0/mlflow-artifacts/artifacts/{path}/model.lgb",
            content=b"tree\nversion=v4\n",
            auth=("tina", PASSWORDS["tina"]),
        )
        assert swapped.status_code == 200
        data = project / ".creditops" / "envs" / "prod" / "data" / "credit_default.parquet"
        scored = _as(
            project,
            uri,
            "vic",
            "score",
            "--model",
            "models:/credit_default_model/1",
            "--env",
            "prod",
            "--data",
            str(data),
            "--output",
            str(project / "scored.csv"),
            "--no-logging",
        )
        _one_line_refusal(scored, "model file model.lgb of models:/credit_default_model/1 does not match")
    finally:
        for user in PASSWORDS:
            os.environ["CREDITOPS_HOME"] = str(project / f"runner-{user}")
            context = from_process("prod")
            for name in state.names(context.endpoints_dir):
                LocalTarget(context, name).delete()
        os.environ["CREDITOPS_HOME"] = str(project / ".creditops")
        server.stop(home)
        shutil.rmtree(store.postgres_data or home, ignore_errors=True)
