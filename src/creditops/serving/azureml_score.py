"""The scoring script of an Azure ML online deployment: the same parsing, checks and answers as `creditops serve`.

Azure ML's inference server calls `init()` once, then `run()` per request. The deployment's code is the
project's `src/` folder, so this file finds the package beside it; `AZUREML_MODEL_DIR` holds the MLflow
model folder and the deployment's variables name the model version it serves. The same request gets
the same answer here and locally, because both go through `ScoringApp.respond`.
"""

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # loaded by file path (Azure ML's server): the package is two folders up
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from creditops.serving.app import Answer, ScoringApp, ServiceSettings
from creditops.serving.model import LoadedModel

DEPLOYMENT_VARIABLES: Final = ("CREDITOPS_DEPLOYMENT", "CREDITOPS_MODEL_NAME", "CREDITOPS_MODEL_VERSION")
"""Set on the deployment by `creditops endpoint rollout` (the model version is the registry's)."""

try:  # Azure ML's inference server: the raw request in, any status code out
    from azureml.contrib.services.aml_request import rawhttp  # type: ignore[import-not-found]
    from azureml.contrib.services.aml_response import AMLResponse  # type: ignore[import-not-found]
except ImportError:  # elsewhere (tests, a local check): run() takes the body and returns (status, body)
    rawhttp = AMLResponse = None

_service: "AzureScorer | None" = None


class AzureScorer:
    """One deployment's scoring app, driven per request without an HTTP server of its own."""

    def __init__(self, model_dir: Path, variables: Mapping[str, str]) -> None:
        from creditops.tracking.registry import load_model_dir

        folder = next((path.parent for path in sorted(model_dir.rglob("MLmodel"))), None)
        if folder is None:
            raise FileNotFoundError(f"no MLflow model (MLmodel file) under {model_dir}")
        missing = [name for name in DEPLOYMENT_VARIABLES if not variables.get(name)]
        if missing:
            raise KeyError(f"the deployment lacks the variable(s) {', '.join(missing)}")
        loaded = LoadedModel(
            load_model_dir(folder),
            variables["CREDITOPS_MODEL_NAME"],
            variables["CREDITOPS_MODEL_VERSION"],
            f"models:/{variables['CREDITOPS_MODEL_NAME']}/{variables['CREDITOPS_MODEL_VERSION']}",
            float(variables.get("CREDITOPS_THRESHOLD", "0.5")),
        )
        self.app = ScoringApp(loaded, ServiceSettings(deployment=variables["CREDITOPS_DEPLOYMENT"]))

    def score(self, body: bytes, query: bytes = b"") -> Answer:
        """The answer `POST /score?QUERY` gets from `creditops serve` for `body` (Azure ML checks the key)."""
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/score",
            "query_string": query,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return asyncio.run(self.app.respond(scope, receive))


def init() -> None:
    global _service
    _service = AzureScorer(Path(os.environ["AZUREML_MODEL_DIR"]), os.environ)


def _run(request: Any) -> Any:
    assert _service is not None, "init() runs before run()"  # nosec B101
    if isinstance(request, str | bytes):
        body, query = (request.encode() if isinstance(request, str) else request), b""
    else:
        body, query = request.get_data(), request.query_string
    answer = _service.score(body, query)
    if AMLResponse is None:
        return answer.status, answer.body
    return AMLResponse(answer.body.decode(), answer.status, json_str=True)


run = _run if rawhttp is None else rawhttp(_run)
