"""Who may do what in the team store: creditops roles as MLflow authentication roles and permissions.

| role | may |
|---|---|
| viewer | read runs, versions and evidence (every signed-in user may) |
| trainer | log runs in any experiment, register versions of the project's model, tag them |
| approver | what a trainer may, and edit the `creditops-approvers` marker model: approve and promote |
| admin | everything, and manage users (MLflow's admin flag) |

MLflow grants EDIT on a registered model as one permission, so registering and moving an alias cannot
be told apart by the store. The approver role is therefore proven by a write the store allows only to
approvers: a tag on the marker model `creditops-approvers`, which `approve` and `promote` make first.
"""

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from creditops.errors import CreditopsError

if TYPE_CHECKING:
    from mlflow.server.auth.client import AuthServiceClient

APPROVERS: Final = "creditops-approvers"
"""The marker registered model only approvers (and admins) may edit."""
ROLES: Final = ("viewer", "trainer", "approver", "admin")
WORKSPACE: Final = "default"


def _grants(role: str, model_name: str) -> tuple[tuple[str, str, str], ...]:
    trainer = (("experiment", "*", "EDIT"), ("registered_model", model_name, "EDIT"))
    return {"trainer": trainer, "approver": (*trainer, ("registered_model", APPROVERS, "EDIT"))}.get(role, ())


def _auth_client(uri: str) -> "AuthServiceClient":
    """MLflow's client of the store's accounts; imported without the Starlette warning that MLflow's server
    modules give on import (see tracking.server)."""
    from creditops.tracking.server import wsgi_warning_ignored

    with wsgi_warning_ignored():
        from mlflow.server.auth.client import AuthServiceClient
    return AuthServiceClient(uri)


@contextlib.contextmanager
def signed_in(uri: str, credentials: tuple[str, str]) -> Iterator[None]:
    """MLflow's clients take credentials only from these variables: set them for the block, then restore."""
    names = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, credentials, strict=True)))
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def prepare(uri: str, admin: tuple[str, str], model_name: str = "credit_default_model") -> None:
    """Make the marker and project models and the MLflow roles behind the creditops roles (idempotent)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with signed_in(uri, admin):
        client, auth = mlflow.MlflowClient(uri, uri), _auth_client(uri)
        for name in (APPROVERS, model_name):
            with contextlib.suppress(MlflowException):
                client.create_registered_model(name)
        existing = {role.name for role in auth.list_roles(WORKSPACE)}
        for role in ("trainer", "approver"):
            if f"creditops-{role}-{model_name}" in existing:
                continue
            made = auth.create_role(WORKSPACE, f"creditops-{role}-{model_name}", f"creditops {role} of {model_name}")
            for resource, pattern, permission in _grants(role, model_name):
                auth.add_role_permission(made.id, resource, pattern, permission)


def set_role(uri: str, admin: tuple[str, str], user: str, role: str, model_name: str = "credit_default_model") -> None:
    """Give `user` exactly `role` on `model_name` (the roles it had on it are taken away)."""

    if role not in ROLES:
        raise CreditopsError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    prepare(uri, admin, model_name)
    with signed_in(uri, admin), _refusals("manage users", "admin"):
        auth = _auth_client(uri)
        roles = {made.name: made.id for made in auth.list_roles(WORKSPACE)}
        for held in auth.list_user_roles(user):
            if held.name.startswith("creditops-"):
                auth.unassign_role(user, held.id)
        auth.update_user_admin(user, role == "admin")
        if role in ("trainer", "approver"):
            auth.assign_role(user, roles[f"creditops-{role}-{model_name}"])


def add(
    uri: str, admin: tuple[str, str], user: str, password: str, role: str, model_name: str = "credit_default_model"
) -> None:

    if role not in ROLES:
        raise CreditopsError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    if len(password) < 12:
        raise CreditopsError("the password must have at least 12 characters")
    with signed_in(uri, admin), _refusals("manage users", "admin"):
        _auth_client(uri).create_user(user, password)
    set_role(uri, admin, user, role, model_name)


def remove(uri: str, admin: tuple[str, str], user: str) -> None:

    with signed_in(uri, admin), _refusals("manage users", "admin"):
        _auth_client(uri).delete_user(user)


def role_of(uri: str, admin: tuple[str, str], user: str) -> str:
    """The creditops role of `user`, as the store has it."""

    with signed_in(uri, admin), _refusals("manage users", "admin"):
        auth = _auth_client(uri)
        if auth.get_user(user).is_admin:
            return "admin"
        held = [made.name for made in auth.list_user_roles(user)]
    for role in ("approver", "trainer"):
        if any(name.startswith(f"creditops-{role}-") for name in held):
            return role
    return "viewer"


def prove_approver(uri: str, user: str, when: str) -> None:
    """Fail with one line unless the signed-in `user` may approve (the store lets it edit the marker model)."""
    import mlflow

    with _refusals(f"approve or promote (signed in as {user})", "approver"):
        mlflow.MlflowClient(uri, uri).set_registered_model_tag(APPROVERS, "last_approval", f"{user} at {when}")


_UNAUTHENTICATED: Final = ("error code 401", "You are not authenticated")
_DENIED: Final = ("error code 403", "Response code 403", "Permission denied")
"""How MLflow's REST and artifact clients word a refusal when they give it no error code of its own."""


def refusal(error: BaseException, action: str = "do that", role: str | None = None) -> CreditopsError | None:
    """A 401/403 from the team store as one line naming the variables to set or the role that may act;
    None for any other error. The one translation the CLI edge, role checks and uploads all use."""
    code = getattr(error, "error_code", None)
    text = str(error)
    if code == "UNAUTHENTICATED" or any(marker in text for marker in _UNAUTHENTICATED):
        return CreditopsError(
            "the team store wants an account: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
            " (in CI, from secrets)"
        )
    if code == "PERMISSION_DENIED" or any(marker in text for marker in _DENIED):
        needed = (
            f"the {role} role" if role else "the trainer role to register, the approver role to approve and promote"
        )
        return CreditopsError(
            f"the team store refused: this account may not {action}; that needs {needed}"
            f" (an admin runs 'creditops server users set-role NAME {role or 'ROLE'}')"
        )
    return None


@contextlib.contextmanager
def _refusals(action: str, role: str) -> Iterator[None]:
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as error:
        refused = refusal(error, action, role)
        if refused is not None:
            raise refused from error
        raise CreditopsError(f"the team store refused: {error.message.splitlines()[0]}") from error
