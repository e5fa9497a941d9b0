"""The scoring service: an ASGI app built by a factory from an already-loaded model."""

import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline

import creditops
from creditops.serving.auth import authorized, expected_authorization, public_docs
from creditops.serving.errors import RequestError
from creditops.serving.metrics import ServiceMetrics
from creditops.serving.model import LoadedModel
from creditops.serving.openapi import scoring_paths
from creditops.serving.protocol import DEPLOYMENT_HEADER, MAX_REASONS, PROBE_HEADER, OnInvalid
from creditops.serving.requests import ScoringRequest, parse_csv_request, parse_request
from creditops.serving.row_predictor import RowPredictor

JSON: Final = "application/json"
CSV: Final = "text/csv"
PROBES: Final = frozenset({"/health", "/ping", "/ready"})
"""The only routes that answer without the key: liveness and readiness probes carry no credentials
(/ping is MLflow's liveness probe, which its scoring client polls before it scores)."""


@dataclass(frozen=True)
class ServiceSettings:
    """Limits and identity of one running deployment."""

    deployment: str = "default"
    api_key: str | None = None
    max_body_bytes: int = 1_048_576
    max_rows: int = 10_000
    request_log: str | None = None
    log_sample_rate: float = 1.0
    on_invalid: OnInvalid = "reject"
    request_log_max_bytes: int = 200_000_000


Shape = Callable[[ScoringRequest, np.ndarray, np.ndarray, dict[str, Any]], dict[str, Any]]
ErrorShape = Callable[[int, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """A scoring route: its answer's shape, its error's shape and the body types it reads."""

    shape: Shape
    error: ErrorShape
    media_types: tuple[str, ...] = (JSON,)


ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def create_app(loaded: LoadedModel, settings: ServiceSettings) -> "ScoringApp":
    """The ASGI app that scores with `loaded` under `settings`."""
    return ScoringApp(loaded, settings)


class ScoringApp:
    """Scoring routes answered straight from ASGI; every other route goes to a FastAPI app.

    The two POST routes are the hot path: reading, parsing, checking, predicting and encoding one row
    take ~25 µs, so a framework's routing and request objects would be most of the cost. FastAPI still
    serves /health, /ready, /version, /metrics and the OpenAPI docs, which describe both routes.
    """

    def __init__(self, loaded: LoadedModel, settings: ServiceSettings) -> None:
        self.loaded = loaded
        self.settings = settings
        self.predict = RowPredictor(loaded.model)
        self.metrics = ServiceMetrics(settings.deployment)
        self.identity = {
            "model_name": loaded.name,
            "model_version": loaded.version,
            "deployment": settings.deployment,
            "threshold": loaded.threshold,
        }
        self.headers = [
            (b"content-type", JSON.encode()),
            (DEPLOYMENT_HEADER.encode(), settings.deployment.encode()),
            (b"x-model-version", loaded.version.encode()),
        ]
        self.expected_key = expected_authorization(settings.api_key)
        self.routes = {
            "/score": Route(_score_shape, _score_error),
            "/invocations": Route(_mlflow_shape, _mlflow_error, (JSON, CSV)),
        }
        self.request_log = None
        if settings.request_log:
            from creditops.monitoring.request_log import RequestLog

            self.request_log = RequestLog(
                Path(settings.request_log),
                settings.deployment,
                loaded.version,
                sample_rate=settings.log_sample_rate,
                total_bytes=settings.request_log_max_bytes,
            )
        self.fastapi = _service_app(self)

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        route = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            if self._locked_out(scope):
                await self.reply(401, orjson.dumps({"error": _KEY_MESSAGE}), send)
                return
            await self.fastapi(scope, receive, send)
            return
        started = time.perf_counter()
        answer = await self.respond(scope, receive)
        await self.reply(answer.status, answer.body, send)
        self.metrics.observe(scope["path"], answer.status, time.perf_counter() - started)

    def _locked_out(self, scope: dict[str, Any]) -> bool:
        """With a key, every route but the probes and the API's documentation needs it (/version names the
        model). The documentation opens without it in a browser, which cannot send a bearer header; the
        key in a query string was refused, as URLs are logged and kept: see `auth.public_docs`."""
        if self.expected_key is None or scope["type"] != "http" or scope.get("path") in PROBES:
            return False
        if public_docs(scope.get("method", ""), scope.get("path", "")):
            return False
        return not authorized(dict(scope["headers"]), self.expected_key)

    async def reply(self, status: int, body: bytes, send: ASGISend) -> None:
        """Send a complete response with this deployment's identity headers."""
        length = (b"content-length", str(len(body)).encode())
        await send({"type": "http.response.start", "status": status, "headers": [*self.headers, length]})
        await send({"type": "http.response.body", "body": body})

    async def respond(self, scope: dict[str, Any], receive: ASGIReceive) -> "Answer":
        """The answer to a request on a scoring route (`scope["path"]` is one of `self.routes`)."""
        route = self.routes[scope["path"]]
        try:
            if scope["method"] != "POST":
                raise RequestError(405, f"{scope['path']} accepts POST only")
            headers = dict(scope["headers"])
            _authorize(headers, self.expected_key)
            media_type = _media_type(headers, route.media_types)
            body = await _read_body(headers, receive, self.settings.max_body_bytes)
            parse = parse_request if media_type == JSON else parse_csv_request
            parsed = parse(
                body, self.loaded.model.contract, max_rows=self.settings.max_rows, on_invalid=self.settings.on_invalid
            )
            probability = self.predict(parsed.features)
            classes = (probability >= self.loaded.threshold).astype(np.int8)
            answer = route.shape(parsed, probability, classes, self.identity)
            wanted = _reasons_wanted(scope["query_string"]) if scope.get("query_string") else 0
            if wanted or parsed.explain:
                _explain(answer["predictions"], self.loaded, parsed, wanted or parsed.explain)
            if self.request_log is not None and _PROBE not in headers:
                self.request_log.record(parsed.columns, probability, classes, parsed.ids)
            return Answer(200, orjson.dumps(answer), parsed, probability, classes)
        except RequestError as error:
            return Answer(error.status, orjson.dumps(route.error(error.status, error.message, self.identity)))


@dataclass(frozen=True)
class Answer:
    """A scoring route's answer, with the rows and predictions behind it when it is a 200."""

    status: int
    body: bytes
    parsed: ScoringRequest | None = None
    probability: np.ndarray | None = None
    classes: np.ndarray | None = None


def _service_app(service: ScoringApp) -> FastAPI:
    """FastAPI for the light routes and the OpenAPI docs of all of them."""
    app = FastAPIOffline(  # Swagger UI and ReDoc served from the package: the docs work with no network
        title="creditops scoring service",
        version=creditops.__version__,
        description=f"Probability of default, for the columns of the {service.loaded.model.contract.name} contract.",
    )
    identity = service.identity

    @app.get("/health")
    async def health() -> JSONResponse:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    @app.get("/ping")
    async def ping() -> Response:
        """Liveness as MLflow's scoring server answers it (a 200 with a newline), for MLflow's clients."""
        return Response("\n", media_type=JSON)

    @app.get("/ready")
    async def ready() -> JSONResponse:
        """Readiness: the model is loaded (the app is only built from a loaded model)."""
        return JSONResponse({"ready": True, **identity})

    @app.get("/version")
    async def version() -> JSONResponse:
        """Which code, model and deployment answer."""
        return JSONResponse({"creditops": creditops.__version__, "model_uri": service.loaded.uri, **identity})

    @app.get("/metrics")
    async def prometheus() -> Response:
        """Prometheus metrics: requests, errors and latency per route and deployment."""
        return Response(service.metrics.exposition(), media_type=service.metrics.content_type)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema["paths"].update(scoring_paths(service.loaded.model.contract))
            _declare_bearer(schema)  # declared without a key too: behind a front door, the door holds it
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    return app


def _declare_bearer(schema: dict[str, Any]) -> None:
    """Declare the bearer key on every route but the probes, so the docs' "Authorize" button sends it."""
    schema.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            operation["security"] = [] if path in PROBES else [{"bearer": []}]


def _media_type(headers: dict[bytes, bytes], accepted: tuple[str, ...]) -> str:
    """The body's media type, one of `accepted`; another type, or a charset but UTF-8, is a 415."""
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in accepted:
        raise RequestError(415, f"content type must be {' or '.join(accepted)}, not {content_type or 'missing'}")
    if parameters and _charset(parameters) not in ("utf-8", "utf8"):
        raise RequestError(415, f"the body must be UTF-8, not {_charset(parameters)}")
    return media_type


def _charset(parameters: str) -> str:
    """The charset a content type's parameters name (utf-8 when they name none)."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


async def _read_body(headers: dict[bytes, bytes], receive: ASGIReceive, limit: int) -> bytes:
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {int(declared)} bytes is over the limit of {limit}")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestError(400, "the client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _reasons_wanted(query: bytes) -> int:
    """K of `?explain=K` (0 when the query does not ask); a bad value is a 400 naming the range."""
    from urllib.parse import parse_qs

    asked = parse_qs(query.decode("latin-1")).get("explain")
    if not asked:
        return 0
    if not asked[-1].isdigit() or not 1 <= int(asked[-1]) <= MAX_REASONS:
        raise RequestError(400, f"explain must be a whole number of reasons from 1 to {MAX_REASONS}, not {asked[-1]!r}")
    return int(asked[-1])


def _explain(rows: list[dict[str, Any]], loaded: LoadedModel, parsed: ScoringRequest, k: int) -> None:
    """Add each row's `k` principal reasons (codes, sentences, log-odds raised), from exact TreeSHAP."""
    if not k:
        return
    from creditops.errors import CreditopsError
    from creditops.modelling.reasons import contributions, top_reasons

    try:
        contract = loaded.model.contract
        reasons = top_reasons(contract, contributions(loaded.model, parsed.features), parsed.features, k)
    except CreditopsError as error:
        raise RequestError(422, str(error)) from error
    for row, found in zip(rows, reasons, strict=True):
        row["reasons"] = [{"code": r.code, "text": r.text, "contribution": r.contribution} for r in found]


def _authorize(headers: dict[bytes, bytes], expected: bytes | None) -> None:
    if not authorized(headers, expected):
        raise RequestError(401, _KEY_MESSAGE)


_KEY_MESSAGE: Final = "missing or wrong API key: send 'Authorization: Bearer <key>'"
_PROBE: Final = PROBE_HEADER.encode()


def _flagged(parsed: ScoringRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the warnings of those that failed a range or code check (on_invalid="flag")."""
    if parsed.warnings:
        for number, warnings in parsed.warnings.items():
            rows[number]["warnings"] = warnings
    return rows


def _score_shape(
    parsed: ScoringRequest, probability: np.ndarray, classes: np.ndarray, identity: dict[str, Any]
) -> dict[str, Any]:
    rows = [
        {"index": index, "class": label, "probability": p}
        for index, label, p in zip(parsed.index, classes.tolist(), probability.tolist(), strict=True)
    ]
    return {**identity, "predictions": _flagged(parsed, rows)}


def _score_error(status: int, message: str, identity: dict[str, Any]) -> dict[str, Any]:
    return {"error": message, **identity}


MLFLOW_ERROR_CODES: Final = {401: "UNAUTHENTICATED", 422: "INVALID_PARAMETER_VALUE"}
"""MLflow's error code of a status (BAD_REQUEST for the others): MLflow answers a body it cannot read with
BAD_REQUEST and a row its model's schema refuses with INVALID_PARAMETER_VALUE."""


def _mlflow_error(status: int, message: str, identity: dict[str, Any]) -> dict[str, Any]:
    """An error as MLflow's scoring server words it (`MlflowException.serialize_as_json`)."""
    return {"error_code": MLFLOW_ERROR_CODES.get(status, "BAD_REQUEST"), "message": message, **identity}


def _mlflow_shape(
    parsed: ScoringRequest, probability: np.ndarray, classes: np.ndarray, identity: dict[str, Any]
) -> dict[str, Any]:
    rows = [{"class": label, "probability": p} for label, p in zip(classes.tolist(), probability.tolist(), strict=True)]
    return {"predictions": _flagged(parsed, rows), **identity}
