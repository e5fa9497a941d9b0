"""Who may do what, against a real authenticated MLflow server on PostgreSQL: roles, identity, four eyes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from creditops.context import from_process
from creditops.endpoints import manager, state
from creditops.tracking import names, server, team_users
from creditops.tracking.registry import Registry

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    ),
]
PASSWORDS = {"vic": "viewer-password-1", "tina": "trainer-password-1", "ana": "approver-password-1"}


def _as(project: Path, store: str, user: str | None, *arguments: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    environ |= {"CREDITOPS_HOME": str(project / f"runner-{user}"), "PROD_MLFLOW_TRACKING_URI": store}
    if user is not None:
        environ |= {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": PASSWORDS[user]}
    return subprocess.run(
        [sys.executable, "-m", "creditops", *arguments], cwd=project, env=environ, capture_output=True, text=True
    )


def _one_line_refusal(done: subprocess.CompletedProcess[str], text: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert text in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # one message, wrapped at most by the terminal width


def test_viewer_trainer_and_approver_may_do_only_their_part(project: Path) -> None:
    home = project / "team-store"
    store = server.start(home)
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
        _one_line_refusal(_as(project, uri, "vic", "ci", "release", "--env", "prod"), "the team store refused")
        candidate = _as(project, uri, "tina", "ci", "release", "--env", "prod")
        assert candidate.returncode == 3, candidate.stdout + candidate.stderr
        approve = ("approve", "--env", "prod", "--version", "1", "--reason", "reviewed")
        _one_line_refusal(_as(project, uri, "vic", *approve), "needs the approver role")
        _one_line_refusal(_as(project, uri, "tina", *approve), "needs the approver role")
        _one_line_refusal(_as(project, uri, "ana", *approve, "--by", "bob"), "is not the store's signed-in account")

        team_users.set_role(uri, admin, "tina", "approver")  # even as an approver, not its own candidate
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
            assert champion.tags[names.REGISTERED_BY] == "tina"
            assert champion.tags[names.APPROVAL_BY] == "ana"
            assert champion.tags[names.APPROVAL_VIA] == "authenticated store"
        report = _as(project, uri, "vic", "gate", "report", "1", "--env", "prod")
        assert "promoted" in report.stdout
        assert "authenticated store" in report.stdout
    finally:
        for user in PASSWORDS:
            os.environ["CREDITOPS_HOME"] = str(project / f"runner-{user}")
            context = from_process("prod")
            for name in state.names(context.endpoints_dir):
                manager.delete(context, name)
        os.environ["CREDITOPS_HOME"] = str(project / ".creditops")
        server.stop(home)
        shutil.rmtree(store.postgres_data or home, ignore_errors=True)
