"""The team store's MLflow app: MLflow's basic-auth app, and the author of every model version recorded by
the server itself, where the registering trainer cannot rewrite it.

MLflow keeps no author for a model version: `registered.by` is written by the registering process, and
any account that may edit the model may edit it afterwards. The server knows the signed-in account of
the request that created the version, so it writes it as a tag (`registrant.MODEL.VERSION`) of the
registered model `creditops-registrants`, on which no role has more than READ: only the server itself
and admins write there, not a trainer, and not an approver who registered a version and would approve
it. Four eyes reads it. Started by `creditops server start` as `mlflow server --app-name creditops-auth`
(an `mlflow.app` entry point of this package).
"""

import json
import logging
import re
from typing import Any, Final

REGISTRANTS: Final = "creditops-registrants"
REGISTRANT_PREFIX: Final = "registrant."
_CREATED: Final = re.compile(r".*/mlflow/model-versions/create$")
_log = logging.getLogger(__name__)


def registrant_key(model: str, version: str) -> str:
    """`registrant.MODEL.VERSION`, in the characters MLflow allows in a tag key."""
    return f"{REGISTRANT_PREFIX}{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}.{version}"


def create_app(app: Any = None) -> Any:
    """MLflow's basic-auth app with the registrant recorded after each model version it creates."""
    from mlflow.server import app as flask_app
    from mlflow.server.auth import create_app as basic_auth

    served = app if app is not None else flask_app
    served.after_request(_record_registrant)
    return basic_auth(served)


def _record_registrant(response: Any) -> Any:
    """After a model version was created: who created it, as the server authenticated them."""
    from flask import request

    if request.method != "POST" or response.status_code != 200 or not _CREATED.match(request.path):
        return response
    user = request.authorization.username if request.authorization else None
    try:
        created = json.loads(response.get_data())["model_version"]
        _write(registrant_key(str(created["name"]), str(created["version"])), user or "unknown")
    except Exception as error:  # the version exists either way; four eyes then finds no registrant and refuses
        _log.error("could not record who registered a model version: %r", error)
    return response


def _write(key: str, user: str) -> None:
    from mlflow.entities.model_registry import RegisteredModelTag
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_model_registry_store

    registry: Any = _get_model_registry_store()  # MLflow's stores are untyped
    tag: Any = RegisteredModelTag(key, user)  # type: ignore[no-untyped-call]
    try:
        registry.set_registered_model_tag(REGISTRANTS, tag)
    except MlflowException:
        registry.create_registered_model(REGISTRANTS)
        registry.set_registered_model_tag(REGISTRANTS, tag)
