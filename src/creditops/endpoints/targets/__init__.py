"""Where an endpoint runs: one module per target behind `Target`, and the registry naming them.

The rollout (smoke test before traffic, mirror, stepwise shift with checks, exact restore on failure)
is written once in `endpoints.blue_green`, and `creditops endpoint` once in `cli.endpoint`, over this
interface. `local` is the front door on this machine; `azureml` is a managed online endpoint in an
Azure ML workspace. A new target is a module here and one entry in `TARGETS`; an environment picks it
with `endpoint.target`.
"""

from collections.abc import Callable
from typing import Final

from creditops.context import Context
from creditops.endpoints.targets.base import Admit, EndpointView, Health, LogTail, Target
from creditops.errors import CreditopsError

__all__ = ["TARGETS", "Admit", "EndpointView", "Health", "LogTail", "Target", "TargetFactory", "target_for"]

TargetFactory = Callable[[Context, str, int | None, Admit | None], Target]
"""Endpoint `name` on a target, from the context, the workers of the deployments it starts and `admit`."""


def _local(context: Context, name: str, workers: int | None, admit: Admit | None) -> Target:
    from creditops.endpoints.targets.local import LocalTarget

    return LocalTarget(context, name, workers, admit)


def _azureml(context: Context, name: str, workers: int | None, admit: Admit | None) -> Target:
    from creditops.azure.online import AzureMLTarget  # the Azure SDK, only where it is used

    return AzureMLTarget.connect(context, name)


TARGETS: Final[dict[str, TargetFactory]] = {"local": _local, "azureml": _azureml}
"""Each `endpoint.target` name an environment may give, and how its target is made."""


def target_for(context: Context, name: str, workers: int | None = None, admit: Admit | None = None) -> Target:
    """Endpoint `name` on the target the context's environment names (`endpoint.target`; local without one).
    `admit` refuses models a stopped local endpoint may not serve again when it starts."""
    kind = context.environment.endpoint.target if context.environment is not None else "local"
    factory = TARGETS.get(kind)
    if factory is None:
        raise CreditopsError(f"unknown endpoint target {kind!r}: use one of {', '.join(TARGETS)}")
    return factory(context, name, workers, admit)
