"""Endpoint state on disk: deployments, traffic weights and history survive restarts."""

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic validates only this TypedDict before Python 3.12

from creditops.errors import CreditopsError
from creditops.files import write_json, write_text

STATE_FILE = "state.json"
KEY_FILE = "key"
LOG_FOLDERS: Final = ("requests", "logs")
"""What `endpoint delete --keep-logs` keeps: the request log and the processes' logs."""
LOG_FILE: Final = "front-door.log"
"""The endpoint's log, in its `logs` folder: its supervisor's and workers' output, and what rollouts did."""
STRICT: Final = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)
"""How the state file is read: every field of its own type, no unknown key, so a hand-edited or truncated
file is refused whole when read, never half-applied and failing later."""
Percent = Annotated[int, Field(ge=0, le=100)]


@with_config(STRICT)
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

    __pydantic_config__: ClassVar[ConfigDict] = STRICT
    name: str
    model_uri: str
    model_version: str
    model_name: str
    threshold: Annotated[float, Field(ge=0, le=1)]
    model_dir: str
    files_sha256: dict[str, str] = field(default_factory=dict)
    """Each file of the endpoint's copy of the model and its SHA-256: a worker loads only these files."""


@dataclass
class RolloutPlan:
    """A rollout in progress: what to restore if the process running it is interrupted or killed."""

    __pydantic_config__: ClassVar[ConfigDict] = STRICT
    pid: int
    deployment: str
    model_uri: str
    before: dict[str, Percent]
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

    __pydantic_config__: ClassVar[ConfigDict] = STRICT
    name: str
    port: Annotated[int, Field(ge=1, le=65535)]
    auth: str
    pid: Annotated[int, Field(ge=0)] = 0
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    generation: Annotated[int, Field(ge=0)] = 0
    deployments: dict[str, Deployment] = field(default_factory=dict)
    traffic: dict[str, Percent] = field(default_factory=dict)
    mirror: dict[str, Percent] = field(default_factory=dict)
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


class NoEndpointError(CreditopsError):
    """No endpoint of that name under the endpoints folder asked."""


def load(root: Path, name: str) -> Endpoint:
    path = folder(root, name) / STATE_FILE
    if not path.is_file():
        raise NoEndpointError(f"no endpoint named {name!r}: create it with '{endpoint_command(root)} create {name}'")
    return read_state(path)


def read_state(path: Path) -> Endpoint:
    """The endpoint whose state file is `path` (what the worker processes re-read when it changes)."""
    return parse_state(path.read_bytes(), path)


def parse_state(content: bytes, path: Path) -> Endpoint:
    """The endpoint the bytes of state file `path` describe, or one line naming what is wrong and the way out."""
    try:
        endpoint = _reader().validate_json(content)
    except ValidationError as error:
        raise invalid_state(path, _problems(error)) from None
    problem = _inconsistency(endpoint, path.parent.name)
    if problem is not None:
        raise invalid_state(path, problem)
    return endpoint


def invalid_state(path: Path, problem: str) -> CreditopsError:
    """The refusal of a state file that is not valid, with the one command that always gets past it."""
    command = endpoint_command(path.parent.parent)
    return CreditopsError(
        f"{path} is not valid endpoint state ({problem}): run '{command} delete {path.parent.name}' and create it again"
    )


_PLAIN: Final = {
    "extra_forbidden": "unknown key",
    "unexpected_keyword_argument": "unknown key",
    "missing": "required key is missing",
    "missing_argument": "required key is missing",
}


@cache
def _reader() -> TypeAdapter[Endpoint]:
    return TypeAdapter(Endpoint)


def _problems(error: ValidationError, shown: int = 3) -> str:
    """The first problems of a validation error, on one short line."""
    found = []
    for item in error.errors(include_url=False)[:shown]:
        key = ".".join(repr(part) if not str(part).isprintable() else str(part) for part in item["loc"]) or "the file"
        message = _PLAIN.get(item["type"], item["msg"])
        found.append(f"{key}: {' '.join(message.split())}")
    more = error.error_count() - shown
    return "; ".join(found) + (f"; {more} more" if more > 0 else "")


def _inconsistency(endpoint: Endpoint, folder_name: str) -> str | None:
    """What makes well-typed state unusable: another endpoint's name (a save would write into its folder), or a
    deployment filed under another deployment's name."""
    if endpoint.name != folder_name:
        return f"it names endpoint {endpoint.name!r}, but lies in the folder of {folder_name!r}"
    for key, deployment in endpoint.deployments.items():
        if deployment.name != key:
            return f"deployments.{key} names deployment {deployment.name!r}"
    return None


def recorded_pids(root: Path, name: str) -> list[int]:
    """The process ids the endpoint's files name, read leniently: `delete` stops them even when the state is
    not valid (only a process whose command line names this endpoint's state file, so a wrong id harms none)."""
    endpoint_folder = folder(root, name)
    found = [_field(endpoint_folder / STATE_FILE, "pid"), _field(run(root, name) / "supervisor.json", "pid")]
    return sorted({pid for pid in found if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0})


def recorded_port(root: Path, name: str) -> int | None:
    """The port the state file names, read leniently (see `recorded_pids`)."""
    port = _field(folder(root, name) / STATE_FILE, "port")
    return port if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536 else None


def _field(path: Path, key: str) -> Any:
    """`key` of the JSON object in `path`, or None when the file, the object or the key is not there."""
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return found.get(key) if isinstance(found, dict) else None


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
