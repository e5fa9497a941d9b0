"""Smoke test of any scoring endpoint: status, one answer per row, valid classes and probabilities,
the reported model version and a latency budget."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import orjson

from creditops.errors import CreditopsError
from creditops.interruption import check
from creditops.serving.errors import RequestError
from creditops.serving.protocol import DEPLOYMENT_HEADER, PROBE_HEADER
from creditops.serving.requests import count_rows


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class SmokeReport:
    url: str
    checks: tuple[Check, ...]
    latency_ms: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def failures(self) -> str:
        return "; ".join(f"{c.name}: {c.detail}" for c in self.checks if not c.passed)


if TYPE_CHECKING:
    from creditops.data.contract import Contract


def read_request(path: Path | None, contract: "Contract | None" = None) -> bytes:
    """The request file's bytes, after checking it is JSON; without a file, the sample request of `contract`
    (the project's, from its modelling config, when None)."""
    if path is None:
        from creditops.config.modelling import load_modelling_config
        from creditops.serving.samples import sample_request

        return sample_request(contract or load_modelling_config(None).contract())
    if not path.is_file():
        raise CreditopsError(f"request file not found: {path}")
    body = path.read_bytes()
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise CreditopsError(f"request file {path} is not valid JSON: {error}") from error
    return body


def scoring_url(url: str) -> str:
    """`url` itself when it names a route, else its /score route."""
    trimmed = url.rstrip("/")
    return trimmed if trimmed.rsplit("/", 1)[-1] in {"score", "invocations"} else f"{trimmed}/score"


def post(
    url: str, body: bytes, *, api_key: str | None = None, deployment: str | None = None, probe: bool = False
) -> httpx.Response:
    """POST a JSON scoring request (a `probe` is not logged as live traffic); a connection failure is one line.

    A stop asked for (Ctrl-C, SIGTERM) is honoured before the request is sent, so every loop of
    requests ends within one request of it."""
    check()
    headers = {"content-type": "application/json"}
    if probe:
        headers[PROBE_HEADER] = "1"
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    if deployment:
        headers[DEPLOYMENT_HEADER] = deployment
    try:
        return httpx.post(scoring_url(url), content=body, headers=headers, timeout=30.0)
    except httpx.HTTPError as error:
        raise CreditopsError(f"cannot reach {scoring_url(url)}: {error}") from error


MAX_ROUNDS = 10
"""A traffic step sends up to this many times its requests until the new deployment has answered its share."""


@dataclass(frozen=True)
class ProbeRun:
    """What a traffic step's probes through an endpoint saw: how many were sent, how many never got an
    answer, the 5xx answers by the new deployment and by the others, and the new one's latencies."""

    sent: int
    unreachable: int
    errors_by_new: int
    errors_by_others: int
    latencies_by_new_ms: tuple[float, ...]


def probe_share(url: str, body: bytes, *, api_key: str | None, deployment: str, step: int, count: int) -> ProbeRun:
    """Send `count` probes through the endpoint, and more (up to MAX_ROUNDS times as many) until
    `deployment` has answered its `step` % share of them."""
    wanted = max(1, count * step // 100)
    latencies: list[float] = []
    sent = unreachable = errors_by_new = errors_by_others = 0
    while sent < count or (len(latencies) < wanted and sent < MAX_ROUNDS * count):
        started = time.perf_counter()
        try:
            answer = post(url, body, api_key=api_key, probe=True)
        except CreditopsError:
            unreachable += 1
        else:
            failed = answer.status_code >= 500
            if answer.headers.get(DEPLOYMENT_HEADER) == deployment:
                latencies.append(1000 * (time.perf_counter() - started))
                errors_by_new += failed
            else:
                errors_by_others += failed
        sent += 1
    return ProbeRun(sent, unreachable, errors_by_new, errors_by_others, tuple(latencies))


def smoke_test(
    url: str,
    body: bytes,
    *,
    api_key: str | None = None,
    deployment: str | None = None,
    max_latency_ms: float = 1_000.0,
    expected_version: str | None = None,
) -> SmokeReport:
    """Send one request and check the answer."""
    rows = _row_count(body)
    started = time.perf_counter()
    answer = post(url, body, api_key=api_key, deployment=deployment, probe=True)
    latency = 1000 * (time.perf_counter() - started)
    checks = [Check("HTTP 200", answer.status_code == 200, f"got {answer.status_code}: {answer.text[:200]}")]
    payload = _json(answer)
    predictions = payload.get("predictions") if isinstance(payload, dict) else None
    predictions = predictions if isinstance(predictions, list) else []
    checks.append(Check("one answer per row", len(predictions) == rows, f"{len(predictions)} answers for {rows} rows"))
    classes = [row.get("class") for row in predictions if isinstance(row, dict)]
    probabilities = [row.get("probability") for row in predictions if isinstance(row, dict)]
    checks.append(
        Check("classes in {0,1}", bool(classes) and all(c in (0, 1) for c in classes), f"classes {classes[:5]}")
    )
    in_unit = all(isinstance(p, int | float) and 0 <= p <= 1 for p in probabilities)
    checks.append(
        Check("probabilities in [0,1]", bool(probabilities) and in_unit, f"probabilities {probabilities[:5]}")
    )
    version = payload.get("model_version") if isinstance(payload, dict) else None
    version_ok = bool(version) and (expected_version is None or str(version) == expected_version)
    wanted = f", expected {expected_version}" if expected_version else ""
    checks.append(Check("model version reported", version_ok, f"version {version!r}{wanted}"))
    if deployment:
        served_by = answer.headers.get(DEPLOYMENT_HEADER)
        checks.append(Check("answered by deployment", served_by == deployment, f"answered by {served_by!r}"))
    checks.append(Check(f"latency ≤ {max_latency_ms:g} ms", latency <= max_latency_ms, f"{latency:.1f} ms"))
    return SmokeReport(scoring_url(url), tuple(checks), latency)


def _row_count(body: bytes) -> int:
    try:
        return count_rows(body)
    except RequestError as error:
        raise CreditopsError(f"the smoke request itself is invalid: {error.message}") from error


def _json(answer: httpx.Response) -> object:
    try:
        return orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        return None
