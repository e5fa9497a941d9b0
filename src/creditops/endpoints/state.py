"""Endpoint state on disk: deployments, traffic weights and history survive restarts."""

import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from creditops.errors import CreditopsError
from creditops.files import read_json, write_json, write_text
from creditops.workspace import workspace_root

STATE_FILE = "state.json"
KEY_FILE = "key"


@dataclass
class Deployment:
    """One running model server behind an endpoint."""

    name: str
    model_uri: str
    model_version: str
    port: int
    pid: int
    workers: int = 1


@dataclass
class Endpoint:
    """An endpoint: one address, several deployments, traffic weights summing to 100."""

    name: str
    port: int
    auth: str
    router_pid: int = 0
    deployments: dict[str, Deployment] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live(self) -> Deployment | None:
        """The deployment with the most traffic (the one a rollout replaces)."""
        weighted = [name for name, weight in self.traffic.items() if weight > 0 and name in self.deployments]
        if not weighted:
            return None
        return self.deployments[max(weighted, key=lambda name: self.traffic[name])]


def endpoints_root() -> Path:
    return workspace_root() / "endpoints"


def folder(name: str) -> Path:
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise CreditopsError(f"invalid endpoint name {name!r}: use letters, digits, '-' and '_'")
    return endpoints_root() / name


def exists(name: str) -> bool:
    return (folder(name) / STATE_FILE).is_file()


def load(name: str) -> Endpoint:
    path = folder(name) / STATE_FILE
    if not path.is_file():
        raise CreditopsError(f"no endpoint named {name!r}: create it with 'creditops endpoint create {name}'")
    raw = read_json(path)
    deployments = {key: Deployment(**value) for key, value in raw.pop("deployments").items()}
    return Endpoint(deployments=deployments, **raw)


def save(endpoint: Endpoint) -> None:
    write_json(folder(endpoint.name) / STATE_FILE, asdict(endpoint))


def names() -> list[str]:
    root = endpoints_root()
    if not root.is_dir():
        return []
    return sorted(path.parent.name for path in root.glob(f"*/{STATE_FILE}"))


def new_key(name: str) -> str:
    """Create the endpoint's API key, readable by this user only."""
    key = secrets.token_urlsafe(32)
    path = write_text(folder(name) / KEY_FILE, key)
    os.chmod(path, 0o600)
    return key


def read_key(name: str) -> str | None:
    path = folder(name) / KEY_FILE
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def requests(name: str) -> Path:
    """Where the endpoint's deployments log the requests they score (read by drift monitoring)."""
    return folder(name) / "requests"


def logs(name: str) -> Path:
    path = folder(name) / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
