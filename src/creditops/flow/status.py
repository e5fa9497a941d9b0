"""One screen per environment: its store, its models, what awaits approval, its endpoint, its drift.

Reading a status changes nothing: an environment whose embedded store was never created is reported
as such (no store is created to look into it), and a remote endpoint is not queried unless asked.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from creditops.context import Context, redacted
from creditops.errors import CreditopsError
from creditops.tracking import names


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    target: str
    url: str | None
    traffic: dict[str, int]
    deployments: dict[str, str]
    """Deployment name → model version it serves."""
    healthy: bool | None
    detail: str


@dataclass(frozen=True)
class EnvironmentStatus:
    environment: str
    store: str
    champion: str | None = None
    challenger: str | None = None
    awaiting_approval: str | None = None
    endpoint: EndpointStatus | None = None
    drift: dict[str, Any] | None = None
    outcomes: dict[str, Any] | None = None
    """The newest outcomes check (`monitor performance`), if one ran."""
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def environment_status(context: Context) -> EnvironmentStatus:
    """What the environment of `context` holds now; a part that cannot be read is named in `problems`."""
    from creditops.flow.monitoring import last_drift, last_performance

    problems: list[str] = []
    models: dict[str, str | None] = {"champion": None, "challenger": None, "awaiting": None}
    if _store_exists(context.store_uri):
        try:
            models = _models(context)
        except CreditopsError as error:
            problems.append(f"store: {error}")
    else:
        problems.append("no store yet: nothing was run in this environment")
    endpoint = _endpoint(context)
    if models["champion"] is not None:
        problems += _custody_problems(context, models["champion"], endpoint)
    return EnvironmentStatus(
        environment=context.env.name,
        store=redacted(context.store_uri),
        champion=models["champion"],
        challenger=models["challenger"],
        awaiting_approval=models["awaiting"],
        endpoint=endpoint,
        drift=last_drift(context),
        outcomes=last_performance(context),
        problems=problems,
    )


def _custody_problems(context: Context, champion: str, endpoint: "EndpointStatus | None") -> list[str]:
    """Where the alias, the approvals ledger and what the endpoint serves disagree."""
    from creditops.flow import custody
    from creditops.tracking.registry import Registry

    found: list[str] = []
    try:
        custody.champion_in_custody(context, Registry(context.store_uri))
    except CreditopsError as refused:
        found.append(f"custody: {refused}")
    if endpoint is not None and endpoint.traffic:
        live = max(endpoint.traffic, key=lambda name: endpoint.traffic[name])
        served = endpoint.deployments.get(live)
        if endpoint.traffic[live] > 0 and served is not None and served != champion:
            found.append(
                f"custody: the endpoint {endpoint.name} serves version {served} ({live},"
                f" {endpoint.traffic[live]}%) while the champion alias names version {champion}"
            )
    return found


def _store_exists(uri: str) -> bool:
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).is_file()


def _models(context: Context) -> dict[str, str | None]:
    from creditops.flow.release import _pending_or_none
    from creditops.tracking.registry import Registry

    versions = Registry(context.store_uri).versions(context.model_name)
    return {
        "champion": next((info.version for info in versions if names.CHAMPION in info.aliases), None),
        "challenger": next((info.version for info in versions if names.CHALLENGER in info.aliases), None),
        "awaiting": _pending_or_none(context),
    }


def _endpoint(context: Context) -> EndpointStatus | None:
    settings = context.env.endpoint
    if settings.target == "azureml":
        return EndpointStatus(settings.name, "azureml", None, {}, {}, None, "on Azure ML: 'creditops endpoint show'")
    from creditops.endpoints import state
    from creditops.endpoints.targets.local import LocalTarget

    if not state.exists(context.endpoints_dir, settings.name):
        return None
    endpoint, report = LocalTarget(context, settings.name).health()
    deployments = {name: item.model_version for name, item in endpoint.deployments.items()}
    healthy = all(item.healthy for item in report)
    detail = "; ".join(f"{item.name}: {item.detail}" for item in report if not item.healthy) or "healthy"
    return EndpointStatus(settings.name, "local", endpoint.url, dict(endpoint.traffic), deployments, healthy, detail)
