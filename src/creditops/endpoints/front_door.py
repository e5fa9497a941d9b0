"""The endpoint's front door: one address; every worker process holds every deployment's model.

A request is routed in memory, by the traffic weights or to the deployment named in the
`azureml-model-deployment` header (as Azure ML managed online endpoints do), and scored in the
same process: no second hop, so the endpoint answers as fast as `creditops serve`. Each worker
re-reads the endpoint state when it changes (a watcher thread, not a check per request), loads
the models of new deployments, and reports which state generation it serves; `creditops endpoint`
waits for every worker's report before it says a change is done.
"""

import argparse
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from creditops.endpoints import mirror
from creditops.endpoints.state import Deployment, Endpoint, read_state
from creditops.errors import CreditopsError
from creditops.files import write_json
from creditops.serving.app import Answer, ASGIReceive, ASGISend, ScoringApp, ServiceSettings
from creditops.serving.auth import authorized, expected_authorization, public_docs
from creditops.serving.bounded import ConnectionLimits
from creditops.serving.metrics import ServiceMetrics
from creditops.serving.model import LoadedModel
from creditops.serving.protocol import DEPLOYMENT_HEADER, OnInvalid
from creditops.serving.server import Supervision, bind, serve

WATCH_SECONDS: Final = 0.05
FRONT_DOOR: Final = "-"
"""The deployment label of answers the front door gives itself (401, 404, 503, 500)."""
KEY_MESSAGE: Final = "missing or wrong endpoint key: send 'Authorization: Bearer <key>'"
_HEADER: Final = DEPLOYMENT_HEADER.encode()
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class Routes:
    """One worker's view of the endpoint: loaded deployments, the live split and the mirror."""

    generation: int = -1
    slots: dict[str, ScoringApp] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    weighted: tuple[tuple[str, int], ...] = ()
    total: int = 0
    mirror: tuple[str, int] | None = None
    sources: dict[str, Deployment] = field(default_factory=dict)

    def choose(self, draw: float, avoid: str | None = None) -> str | None:
        """A deployment by weight among the loaded ones (`draw` in [0, 1)); None when none has traffic."""
        weighted = self.weighted if avoid is None else tuple(item for item in self.weighted if item[0] != avoid)
        total = sum(weight for _name, weight in weighted)
        point = draw * total
        for name, weight in weighted:
            if point < weight:
                return name
            point -= weight
        return None


@dataclass(frozen=True)
class EndpointSettings:
    """What every deployment of one endpoint shares: its request log and how it treats invalid rows."""

    request_log: str | None = None
    on_invalid: OnInvalid = "reject"
    request_log_max_bytes: int = 200_000_000


def build_routes(endpoint: Endpoint, previous: Routes, settings: EndpointSettings) -> Routes:
    """The routes for `endpoint`, keeping the loaded models of deployments that did not change."""
    from creditops.tracking import integrity
    from creditops.tracking.registry import load_model_dir

    slots: dict[str, ScoringApp] = {}
    failed: dict[str, str] = {}
    for name, deployment in endpoint.deployments.items():
        if previous.sources.get(name) == deployment and name in previous.slots:
            slots[name] = previous.slots[name]
            continue
        try:
            if deployment.files_sha256:
                integrity.verify(
                    Path(deployment.model_dir), deployment.files_sha256, f"deployment {name}", "when it was deployed"
                )
            model = load_model_dir(Path(deployment.model_dir))
        except (CreditopsError, OSError, ValueError) as error:
            failed[name] = str(error)
            continue
        loaded = LoadedModel(
            model, deployment.model_name, deployment.model_version, deployment.model_uri, deployment.threshold
        )
        service = ServiceSettings(
            deployment=name,
            request_log=settings.request_log,
            on_invalid=settings.on_invalid,
            request_log_max_bytes=settings.request_log_max_bytes,
        )
        slots[name] = ScoringApp(loaded, service)
    weighted = tuple((name, weight) for name, weight in endpoint.traffic.items() if weight > 0 and name in slots)
    shadow = next(((name, pct) for name, pct in endpoint.mirror.items() if pct > 0 and name in slots), None)
    return Routes(
        endpoint.generation,
        slots,
        failed,
        weighted,
        sum(weight for _name, weight in weighted),
        shadow,
        dict(endpoint.deployments),
    )


class StateFile:
    """The endpoint state as last read whole. A file that is not valid state (truncated, hand-edited) is
    refused with one log line and the last good state stays in force: the endpoint never dies of it. A
    worker forked by the supervisor starts from the supervisor's copy, so it too serves the last good state."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.good: Endpoint | None = None

    def current(self) -> Endpoint | None:
        """The state, re-read when the file changed; the last good one while the file is refused."""
        try:
            status = os.stat(self.path)
        except OSError:
            return self.good
        stamp = (status.st_mtime_ns, status.st_ino)
        if stamp != self.stamp:
            self.stamp = stamp
            try:
                self.good = read_state(self.path)
            except (CreditopsError, OSError) as error:
                kept = "nothing yet" if self.good is None else f"generation {self.good.generation}"
                print(f"refused the endpoint state, still serving {kept}: {error}", flush=True)
        return self.good


class FrontDoor:
    """The ASGI app of one worker: key check, routing, scoring, mirroring."""

    def __init__(self, state: StateFile, key: str | None, settings: EndpointSettings) -> None:
        self.state = state
        self.applied: Endpoint | None = None
        self.settings = settings
        self.expected = expected_authorization(key)
        self.metrics = ServiceMetrics(FRONT_DOOR)
        self.mirror_metrics = mirror.MirrorMetrics()
        self.routes = Routes()
        self.seen = 0
        self.refresh()

    def refresh(self) -> bool:
        """Apply the state when it changed; report the generation served. Whether it changed."""
        endpoint = self.state.current()
        if endpoint is None or endpoint is self.applied:
            return False
        self.applied = endpoint
        self.routes = build_routes(endpoint, self.routes, self.settings)
        report = {"generation": self.routes.generation, "failed": self.routes.failed}
        write_json(self.state.path.parent / "run" / f"worker-{os.getpid()}.json", report)
        return True

    def watch(self) -> None:
        """Follow the state file for as long as the process lives (a daemon thread)."""
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                self.refresh()
            except (OSError, ValueError, CreditopsError) as error:
                print(f"cannot apply {self.state.path}: {error}", flush=True)

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        try:
            status = await self._route(scope, receive, send)
        except Exception as error:  # counted and answered: a client never sees a dropped connection
            print(f"front door failed on {scope.get('path')!r}: {error!r}", flush=True)
            status = 500
            await _reply(send, 500, {"error": "the endpoint failed to answer; see its logs"})
        if status:
            self.metrics.observe("front door", status, time.perf_counter() - started)

    async def _route(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> int:
        """Answer the request; the status when the front door answered it itself, else 0."""
        path = scope["path"]
        if path in ("/health", "/ping"):  # liveness probes (/ping: MLflow's) carry no credentials
            return await _reply(send, 200, {"status": "ok"})
        routes = self.routes
        if path == "/ready":
            ready = bool(routes.weighted)
            return await _reply(send, 200 if ready else 503, {"ready": ready, "deployments": sorted(routes.slots)})
        headers = dict(scope["headers"])
        if not authorized(headers, self.expected) and not public_docs(scope["method"], path):
            return await _reply(send, 401, {"error": KEY_MESSAGE})
        if path == "/metrics":
            await _send(send, 200, self.metrics.exposition(), self.metrics.content_type.encode())
            return 0
        requested = headers.get(_HEADER)
        name = self._target(routes, requested)
        if isinstance(name, tuple):
            return await _reply(send, *name)
        slot = routes.slots[name]
        if path not in slot.routes:
            await slot.fastapi(scope, receive, send)
            return 0
        chunks: list[bytes] = []
        answer = await self._score(slot, scope, _recording(receive, chunks))
        if answer is None and requested is None:  # the deployment failed: scoring is idempotent, try another
            other = routes.choose(random.random(), avoid=name)  # nosec B311
            if other is not None:
                slot = routes.slots[other]
                answer = await self._score(slot, scope, _replaying(b"".join(chunks)))
        if answer is None:
            return await _reply(send, 500, {"error": f"deployment {name} failed to answer; see the endpoint's logs"})
        await slot.reply(answer.status, answer.body, send)
        if routes.mirror is not None and answer.parsed is not None and requested is None:
            self._mirror(routes, answer)
        return 0

    def _target(self, routes: Routes, requested: bytes | None) -> str | tuple[int, dict[str, str]]:
        """The deployment to answer, or the status and error when none can."""
        if requested is not None:
            name = requested.decode("latin-1")
            if name in routes.slots:
                return name
            if name in routes.failed:
                return 503, {"error": f"deployment {name} is not serving: {routes.failed[name]}"}
            return 404, {"error": f"no deployment named {name[:64]!r} on this endpoint"}
        # a traffic split, not a secret: the standard generator is right here
        chosen = routes.choose(random.random())  # nosec B311
        if chosen is None:
            return 503, {"error": "no deployment has traffic: run 'creditops endpoint traffic NAME DEP=100'"}
        return chosen

    async def _score(self, slot: ScoringApp, scope: dict[str, Any], receive: ASGIReceive) -> Answer | None:
        """The slot's answer, counted in its own metrics; None when it failed unexpectedly."""
        started = time.perf_counter()
        try:
            answer = await slot.respond(scope, receive)
        except Exception as error:
            print(f"deployment {slot.settings.deployment} failed: {error!r}", flush=True)
            slot.metrics.observe(scope["path"], 500, time.perf_counter() - started)
            return None
        slot.metrics.observe(scope["path"], answer.status, time.perf_counter() - started)
        return answer

    def _mirror(self, routes: Routes, answer: Answer) -> None:
        if routes.mirror is None or answer.parsed is None or answer.probability is None or answer.classes is None:
            return
        self.seen += 1
        name, percent = routes.mirror
        if not mirror.selected(self.seen, percent):
            return
        shadow = routes.slots[name]
        started = time.perf_counter()
        try:
            probability = shadow.predict(answer.parsed.features)
            classes = (probability >= shadow.loaded.threshold).astype("int8")
        except Exception:  # a failing mirror deployment is what the rollout is looking for
            self.mirror_metrics.failed(name)
            shadow.metrics.observe("mirror", 500, time.perf_counter() - started)
            return
        shadow.metrics.observe("mirror", 200, time.perf_counter() - started)
        self.mirror_metrics.compare(name, (answer.probability, answer.classes), (probability, classes))


def _recording(receive: ASGIReceive, chunks: list[bytes]) -> ASGIReceive:
    """`receive`, keeping the body read so a failed deployment's request can go to another."""

    async def recorded() -> Any:
        message = await receive()
        chunks.append(message.get("body", b""))
        return message

    return recorded


def _replaying(body: bytes) -> ASGIReceive:
    async def replayed() -> Any:
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _reply(send: ASGISend, status: int, payload: dict[str, Any]) -> int:
    await _send(send, status, orjson.dumps(payload), b"application/json")
    return status


async def _send(send: ASGISend, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _worker_app(state: StateFile, key: str | None, settings: EndpointSettings) -> FrontDoor:
    door = FrontDoor(state, key, settings)
    threading.Thread(target=door.watch, name="state-watcher", daemon=True).start()
    return door


def _desired(state: StateFile) -> Callable[[], int]:
    """The worker count of the last good state (re-read only when the file changes)."""

    def desired() -> int:
        endpoint = state.current()
        return 1 if endpoint is None else endpoint.workers

    return desired


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.endpoints.front_door (started by `creditops endpoint`)."""
    parser = argparse.ArgumentParser(prog="creditops.endpoints.front_door", description=__doc__)
    parser.add_argument("--state", type=Path, required=True, help="Endpoint state file")
    parser.add_argument("--port", type=int, required=True, help="Port of the endpoint address")
    parser.add_argument("--request-log", default=None, help="Folder of the request log")
    parser.add_argument("--on-invalid", choices=("reject", "flag"), default="reject")
    parser.add_argument("--request-log-max-mb", type=int, default=200)
    parser.add_argument("--head-seconds", type=float, default=ConnectionLimits.head_seconds)
    parser.add_argument("--body-seconds", type=float, default=ConnectionLimits.body_seconds)
    parser.add_argument("--max-connections", type=int, default=ConnectionLimits.max_connections)
    args = parser.parse_args(argv)
    key = os.environ.get("CREDITOPS_ENDPOINT_KEY") or None
    settings = EndpointSettings(args.request_log, args.on_invalid, args.request_log_max_mb * 1_000_000)
    limits = ConnectionLimits(
        head_seconds=args.head_seconds, body_seconds=args.body_seconds, max_connections=args.max_connections
    )
    import creditops.tracking.registry  # noqa: F401  # imported once here, so forked workers start at once

    sock = bind("127.0.0.1", args.port)
    state = StateFile(args.state)
    supervisor = args.state.parent / "run" / "supervisor.json"

    def report(status: Supervision) -> None:
        write_json(supervisor, status.__dict__)

    serve(
        lambda: _worker_app(state, key, settings),
        sock,
        1,
        limits=limits,
        supervise=True,
        desired=_desired(state),
        report=report,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
