"""Endpoint state on disk: deployments, traffic weights and history survive restarts."""

import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, TypedDict

from creditops.errors import CreditopsError
from creditops.files import read_json, write_json, write_text

STATE_FILE = "state.json"
KEY_FILE = "key"
LOG_FOLDERS: Final = ("requests", "logs")
"""What `endpoint delete --keep-logs` keeps: the request log and the processes' logs."""


class HistoryEntry(TypedDict):
    """A model an endpoint served before a rollout replaced it: what `rollback` returns to."""

    model_uri: str
    model_version: str


@dataclass
class Deployment:
    """One model behind an endpoint: its own version, its own copy of the model files, its own figures.

    Every worker process of the endpoint holds every deployment's model and routes to it in memory, so a
    request makes no second hop; a deployment that fails to load is skipped, not fatal to the others.
    """

    name: str
    model_uri: str
    model_version: str
    model_name: str
    threshold: float
    model_dir: str


@dataclass
class RolloutPlan:
    """A rollout in progress: what to restore if the process running it is interrupted or killed."""

    pid: int
    deployment: str
    model_uri: str
    before: dict[str, int]
    replaced: str | None
    started_at: str
    step: str = "deploying"

    def weights_before(self) -> str:
        """The traffic restoring this plan gives back, as one phrase."""
        return describe_weights(self.before)


def describe_weights(weights: dict[str, int]) -> str:
    """Traffic weights as one phrase: "blue=90%, green=10%"."""
    return ", ".join(f"{dep}={pct}%" for dep, pct in weights.items()) or "no traffic"


@dataclass
class Endpoint:
    """An endpoint: one address, several deployments, traffic weights summing to 100."""

    name: str
    port: int
    auth: str
    pid: int = 0
    workers: int = 1
    generation: int = 0
    deployments: dict[str, Deployment] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    rollout: RolloutPlan | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live(self) -> Deployment | None:
        """The deployment with the most traffic (the one a rollout replaces)."""
        weighted = [name for name, weight in self.traffic.items() if weight > 0 and name in self.deployments]
        if not weighted:
            return None
        return self.deployments[max(weighted, key=lambda name: self.traffic[name])]


NAME_RULE: Final = re.compile(r"[a-zA-Z]([-a-zA-Z0-9]{1,30})[a-zA-Z0-9]")
"""Azure ML's rule for endpoint and deployment names (azure-ai-ml EndpointConfigurations): 3 to 32
letters, digits and dashes, starting with a letter and ending with a letter or digit. The same rule
here keeps a local name valid on Azure ML and makes every name a safe folder name."""


def valid_name(kind: str, name: str) -> str:
    """`name` when it is a valid endpoint or deployment name, else a one-line error naming the rule."""
    if NAME_RULE.fullmatch(name) is None:
        shown = name if len(name) <= 40 else f"{name[:40]}…"
        raise CreditopsError(
            f"invalid {kind} name {shown!r}: use 3 to 32 letters, digits and '-', starting with a letter and"
            " ending with a letter or digit (Azure ML's rule)"
        )
    return name


def endpoint_command(root: Path) -> str:
    """`creditops endpoint`, with the --env whose workspace holds `root` (…/envs/ENV/endpoints)."""
    workspace = root.parent
    return f"creditops endpoint --env {workspace.name}" if workspace.parent.name == "envs" else "creditops endpoint"


def folder(root: Path, name: str) -> Path:
    """The folder of endpoint `name` under `root` (a context's endpoints folder)."""
    return root / valid_name("endpoint", name)


def exists(root: Path, name: str) -> bool:
    return (folder(root, name) / STATE_FILE).is_file()


def load(root: Path, name: str) -> Endpoint:
    path = folder(root, name) / STATE_FILE
    if not path.is_file():
        raise CreditopsError(f"no endpoint named {name!r}: create it with '{endpoint_command(root)} create {name}'")
    return read_state(path)


def read_state(path: Path) -> Endpoint:
    """The endpoint whose state file is `path` (what the worker processes re-read when it changes)."""
    raw = read_json(path)
    try:
        deployments = {key: Deployment(**value) for key, value in raw.pop("deployments").items()}
        plan = raw.pop("rollout", None)
        return Endpoint(deployments=deployments, rollout=None if plan is None else RolloutPlan(**plan), **raw)
    except (TypeError, KeyError) as error:
        raise CreditopsError(
            f"{path} was written by another creditops version ({error}): delete the endpoint and create it again"
        ) from error


def save(root: Path, endpoint: Endpoint) -> None:
    """Write the state; the generation moves on, so every worker knows to re-read it."""
    endpoint.generation += 1
    write_json(folder(root, endpoint.name) / STATE_FILE, asdict(endpoint))


def names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(path.parent.name for path in root.glob(f"*/{STATE_FILE}"))


def new_key(root: Path, name: str) -> str:
    """Create the endpoint's API key, readable by this user only."""
    key = secrets.token_urlsafe(32)
    write_text(folder(root, name) / KEY_FILE, key, mode=0o600)
    return key


def read_key(root: Path, name: str) -> str | None:
    path = folder(root, name) / KEY_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def requests(root: Path, name: str) -> Path:
    """Where the endpoint's deployments log the requests they score (read by drift monitoring)."""
    return folder(root, name) / "requests"


def models(root: Path, name: str) -> Path:
    """Where the endpoint keeps its own copy of each deployment's model files."""
    return folder(root, name) / "models"


def run(root: Path, name: str) -> Path:
    """The worker processes' reports: which state generation each has applied, and the supervisor's."""
    return folder(root, name) / "run"


def logs(root: Path, name: str) -> Path:
    path = folder(root, name) / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
