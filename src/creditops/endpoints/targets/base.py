"""The one interface every target implements: what `creditops endpoint` and a rollout do to an endpoint.

Two kinds of operation. Commands a person runs (`create`, `deploy_by_hand`, `set_traffic_by_hand`, …)
each hold the endpoint for themselves. A rollout's steps (`deploy`, `set_traffic`, `measure_step`, …)
run inside `changing`, which the rollout holds for all of them. A capability a target lacks is a
one-line `CreditopsError` from the target itself, so the command line never asks which target it has.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from creditops.endpoints.decisions import MirrorFigures, StepFigures
from creditops.endpoints.smoke import SmokeReport
from creditops.endpoints.state import Deployment, Endpoint, HistoryEntry, RolloutPlan
from creditops.say import Say

Admit = Callable[[str], str | None]
"""Why a model may not serve again when a stopped endpoint starts (None: it may)."""


@dataclass(frozen=True)
class Health:
    """One part of an endpoint (its front door, a rollout, a deployment) and whether it is well."""

    name: str
    healthy: bool
    detail: str


@dataclass(frozen=True)
class EndpointView:
    """The endpoint as `creditops endpoint show` prints it: `record` with `--output json`; a table of
    `health` over `state` when the target keeps a local state, else `record` as JSON. The command exits 1
    when a part is not healthy."""

    record: dict[str, Any]
    health: tuple[Health, ...] = ()
    state: Endpoint | None = None

    @property
    def healthy(self) -> bool:
        return all(item.healthy for item in self.health)


@dataclass(frozen=True)
class LogTail:
    """The end of an endpoint's log and where it comes from (a file, a deployment's log)."""

    source: str
    lines: list[str]


class Target(Protocol):
    """One endpoint on one target."""

    name: str
    workers: int | None

    # what people run by hand: each command holds the endpoint for itself

    def create(self, port: int | None, auth: str, workers: int) -> str:
        """Create the endpoint (`port`, `auth`, `workers` where the target has them); where it answers."""

    def start(self, say: Say) -> str:
        """Bring a stopped endpoint back as it was; its address and traffic."""

    def deploy_by_hand(self, deployment: str, model_uri: str) -> Deployment:
        """`deploy`, holding the endpoint itself (a new deployment gets 0 % of the traffic)."""

    def set_traffic_by_hand(self, weights: dict[str, int]) -> dict[str, int]:
        """`set_traffic`, holding the endpoint itself; the traffic now."""

    def deployments(self) -> dict[str, Deployment]: ...

    def invoke(self, body: bytes, deployment: str | None = None) -> httpx.Response: ...

    def send_rows(self, data: Path, deployment: str | None = None) -> tuple[int, float]:
        """Score every row of a data file through the endpoint; the row count and mean probability."""

    def show(self) -> EndpointView: ...

    def logs(self, lines: int, deployment: str | None = None) -> LogTail:
        """The last `lines` lines of the endpoint's log, or of `deployment`'s."""

    def follow(self, deployment: str | None, stop: Callable[[], bool]) -> Iterator[str]:
        """The lines added to the log from now on (those of `deployment`, when named), as they come,
        until `stop()` is true (`endpoint logs --follow`: until Ctrl-C)."""

    def note(self, message: str) -> None:
        """Write what a rollout does (a step, a check's result, a failure and the restore) to the
        endpoint's log, where the target keeps one that creditops writes."""

    def credentials(self) -> str:
        """The key a client sends as 'Authorization: Bearer <key>'."""

    def delete(self, keep_logs: bool = False) -> str:
        """Delete the endpoint (its logs kept when asked and the target keeps any); what was done."""

    def recover(self) -> str:
        """Undo a rollout whose process was killed; what was done."""

    # what a release or a rollout needs

    def exists(self) -> bool: ...

    def ensure(self, port: int | None = None) -> None:
        """The environment's endpoint, existing and serving (created when missing; `port` for a local one)."""

    def describe(self) -> str:
        """Where the endpoint answers, for people: "the local endpoint NAME at URL (this machine)"."""

    def changing(self, what: str, say: Say) -> AbstractContextManager[None]:
        """Hold the endpoint for one change; first undo a rollout a killed process left unfinished."""

    def live(self) -> Deployment | None:
        """The deployment with the most traffic, if any has traffic."""

    def traffic(self) -> dict[str, int]: ...

    def record_plan(self, plan: RolloutPlan | None) -> None:
        """Keep the rollout in progress (or none) where a later command finds it."""

    def deploy(self, deployment: str, model_uri: str) -> Deployment:
        """Create or replace `deployment` serving `model_uri` at 0 % of the traffic; return when it is ready."""

    def smoke(self, body: bytes, deployment: str) -> SmokeReport: ...

    def set_traffic(self, weights: dict[str, int]) -> None: ...

    def measure_step(self, body: bytes, step: int, deployment: str, count: int) -> StepFigures:
        """Send `count` requests through the endpoint; the new deployment's figures."""

    def measure_mirror(self, body: bytes, deployment: str, percent: int, count: int) -> MirrorFigures:
        """Mirror `percent` % of live requests to `deployment` while sending `count`; the comparison."""

    def restore(self, plan: RolloutPlan) -> None:
        """Traffic exactly as before `plan`, its new deployment deleted, no mirror, no plan."""

    def retire(self, old: Deployment, remember: bool) -> None:
        """Delete `old` (it has no traffic now); remember its model for rollback when asked."""

    def history(self) -> list[HistoryEntry]: ...

    def forget_last(self) -> None:
        """Drop the newest history entry (a rollback has returned to it)."""
