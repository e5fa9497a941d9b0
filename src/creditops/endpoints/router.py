"""The endpoint's front door: one address that routes each request to a deployment.

Requests go by the traffic weights, or straight to the deployment named in the
`azureml-model-deployment` header, as Azure ML managed online endpoints do. The state file is
re-read whenever it changes, so `traffic` and `deploy` take effect without a restart.
"""

import argparse
import os
import random
from pathlib import Path
from typing import Any

import httpx
import orjson

from creditops.endpoints.state import Endpoint, load
from creditops.serving.app import ASGIReceive, ASGISend
from creditops.serving.auth import authorized, expected_authorization
from creditops.serving.protocol import DEPLOYMENT_HEADER
from creditops.serving.server import bind, serve

FORWARDED_HEADERS = (b"content-type", b"accept")


def choose(endpoint: Endpoint, requested: str | None, draw: float) -> str | None:
    """The deployment for one request: the requested one, else by weight (`draw` in [0, 1))."""
    if requested:
        return requested if requested in endpoint.deployments else None
    point = draw * 100
    for name, weight in endpoint.traffic.items():
        if point < weight and name in endpoint.deployments:
            return name
        point -= weight
    return None


class Router:
    """A raw ASGI app forwarding to the deployments of one endpoint."""

    def __init__(self, name: str, state_path: Path, key: str | None) -> None:
        self.name = name
        self.state_path = state_path
        self.expected = expected_authorization(key)
        self.client = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_keepalive_connections=64))
        self.endpoint: Endpoint | None = None
        self.modified = 0.0

    def current(self) -> Endpoint:
        modified = os.stat(self.state_path).st_mtime
        if self.endpoint is None or modified != self.modified:
            self.endpoint, self.modified = load(self.state_path.parent.parent, self.name), modified
        return self.endpoint

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        if not authorized(headers, self.expected):
            await _reply(send, 401, {"error": "missing or wrong endpoint key: send 'Authorization: Bearer <key>'"})
            return
        endpoint = self.current()
        requested = headers.get(DEPLOYMENT_HEADER.encode(), b"").decode() or None
        # a traffic split, not a secret: the standard generator is right here
        target = choose(endpoint, requested, random.random())  # nosec B311
        if target is None:
            reason = (
                f"no deployment named {requested!r}"
                if requested
                else f"no deployment has traffic: run 'creditops endpoint traffic {self.name} DEP=100'"
            )
            await _reply(send, 404 if requested else 503, {"error": reason})
            return
        body = await _body(receive)
        deployment = endpoint.deployments[target]
        url = f"http://127.0.0.1:{deployment.port}{scope['path']}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode()
        forwarded = {k.decode(): v.decode() for k, v in headers.items() if k in FORWARDED_HEADERS}
        try:
            answer = await self.client.request(scope["method"], url, content=body, headers=forwarded)
        except httpx.HTTPError as error:
            await _reply(send, 502, {"error": f"deployment {target} did not answer: {error}"})
            return
        response_headers = [
            (b"content-type", answer.headers.get("content-type", "application/json").encode()),
            (DEPLOYMENT_HEADER.encode(), target.encode()),
            (b"content-length", str(len(answer.content)).encode()),
        ]
        await send({"type": "http.response.start", "status": answer.status_code, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer.content})


async def _body(receive: ASGIReceive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _reply(send: ASGISend, status: int, payload: dict[str, Any]) -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.endpoints.router --name NAME (started by `creditops endpoint`)."""
    parser = argparse.ArgumentParser(prog="creditops.endpoints.router", description=__doc__)
    parser.add_argument("--name", required=True, help="Endpoint name")
    parser.add_argument("--state", type=Path, required=True, help="Endpoint state file")
    parser.add_argument("--port", type=int, required=True, help="Port of the endpoint address")
    args = parser.parse_args(argv)
    key = os.environ.get("CREDITOPS_ENDPOINT_KEY") or None
    sock = bind("127.0.0.1", args.port)
    serve(lambda: Router(args.name, args.state, key), sock, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
