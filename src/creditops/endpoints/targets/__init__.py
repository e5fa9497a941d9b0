"""Where an endpoint runs: the few operations a rollout needs, implemented once per target.

The rollout (smoke test before traffic, mirror, stepwise shift with checks, exact restore on failure)
is written once in `endpoints.blue_green` over this interface. `local` is the front door on this
machine; `azureml` is a managed online endpoint in an Azure ML workspace.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from creditops.context import Context
from creditops.endpoints.decisions import MirrorFigures, StepFigures
from creditops.endpoints.smoke import SmokeReport
from creditops.endpoints.state import Deployment, HistoryEntry, RolloutPlan
from creditops.say import Say


class Target(Protocol):
    """One endpoint on one target, as a rollout drives it."""

    name: str
    workers: int | None

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


def target_for(
    context: Context, name: str, workers: int | None = None, admit: Callable[[str], str | None] | None = None
) -> Target:
    """Endpoint `name` on the target the context's environment names (`endpoint.target`; local without one).
    `admit` refuses models a stopped local endpoint may not serve again when it starts."""
    settings = context.environment.endpoint if context.environment is not None else None
    if settings is not None and settings.target == "azureml":
        from creditops.endpoints.targets.azureml import AzureMLTarget

        return AzureMLTarget.connect(context, name)
    from creditops.endpoints.targets.local import LocalTarget

    return LocalTarget(context, name, workers, admit)
