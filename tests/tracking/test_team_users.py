"""The team store's bad inputs and refusals, refused before any server is asked: no network needed."""

from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, RESOURCE_DOES_NOT_EXIST, UNAUTHENTICATED

from creditops.errors import CreditopsError
from creditops.tracking import server, team_users

NOWHERE = "http://127.0.0.1:9"  # a closed port: a call that reached the network would fail differently


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: team_users.add(NOWHERE, ("admin", "x"), "bob", "long-enough-password", "boss"), "unknown role 'boss'"),
        (lambda: team_users.set_role(NOWHERE, ("admin", "x"), "bob", "root"), "unknown role 'root'"),
        (lambda: team_users.add(NOWHERE, ("admin", "x"), "bob", "short", "viewer"), "at least 12 characters"),
    ],
)
def test_bad_roles_and_passwords_are_one_line_before_the_store_is_asked(call, message: str) -> None:
    with pytest.raises(CreditopsError, match=message):
        call()


def test_a_backend_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match=r"must be a postgresql:// URI, not sqlite:…"):
        server.start(tmp_path, backend_uri="sqlite:///somewhere.db")
    assert not (tmp_path / "server" / server.STATE_FILE).exists()


def test_status_and_stop_of_a_workspace_without_a_store(tmp_path: Path) -> None:
    assert server.status(tmp_path) == (None, False)
    assert server.stop(tmp_path) is None
    with pytest.raises(CreditopsError, match="has no team store: start one with 'creditops server start'"):
        server.admin_credentials(tmp_path)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MlflowException("no", error_code=UNAUTHENTICATED), "wants an account: set MLFLOW_TRACKING_USERNAME"),
        (MlflowException("no", error_code=PERMISSION_DENIED), "may not do that; that needs the trainer role"),
        (OSError("Response code 403. Permission denied"), "may not do that"),
        (MlflowException("upload failed with error code 403 != 200"), "may not do that"),
        (MlflowException("run 4031ab not found"), None),
        (OSError("disk full"), None),
        (MlflowException("gone", error_code=RESOURCE_DOES_NOT_EXIST), None),
    ],
)
def test_store_refusals_become_one_line_and_other_errors_pass(error: Exception, expected: str | None) -> None:
    refused = team_users.refusal(error)
    if expected is None:
        assert refused is None
    else:
        assert refused is not None
        assert expected in str(refused)
        assert "\n" not in str(refused)
    named = team_users.refusal(MlflowException("no", error_code=PERMISSION_DENIED), "approve", "approver")
    assert str(named).endswith(
        "may not approve; that needs the approver role (an admin runs 'creditops server users set-role NAME approver')"
    )
