"""The context a command works in: its MLflow store, its workspace folder and, with --env, its environment.

Built once at the edge (the CLI, a step's `main`, a server's start) from the process environment, then
passed down: nothing below this module reads MLFLOW_TRACKING_URI or CREDITOPS_WORKSPACE. Child processes
get the same context back through `child_environ()`.
"""

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from creditops.config.environments import LOCAL_ENVIRONMENT, EnvironmentConfig, load_environment
from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.errors import ConfigError, CreditopsError

WORKSPACE_ENV: Final = "CREDITOPS_WORKSPACE"
HOME_ENV: Final = "CREDITOPS_HOME"
TRACKING_ENV: Final = "MLFLOW_TRACKING_URI"
COMMIT_ENV: Final = "CREDITOPS_GIT_COMMIT"
PICKLE_OPT_IN_ENV: Final = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
USER_ENV: Final = "MLFLOW_TRACKING_USERNAME"
DEFAULT_WORKSPACE: Final = ".creditops"
WORKSPACE_VARIABLES: Final = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")
"""The Azure ML workspace a context's commands talk to (read by `creditops.azure.workspace`)."""
CLIENT_FACTORY: Final = "CREDITOPS_AZUREML_CLIENT"
"""`module:function` returning the MLClient (see `creditops.azure.workspace`); unset: DefaultAzureCredential."""


@dataclass(frozen=True)
class Context:
    """Where a command reads and writes: one store, one workspace folder, optionally one environment."""

    workspace: Path
    store_uri: str
    environment: EnvironmentConfig | None = None
    modelling: ModellingConfig = field(default_factory=ModellingConfig)
    commit_override: str | None = None
    allow_pickle: bool = False
    notes: tuple[str, ...] = ()
    """What a person should know about how this context was chosen (e.g. a store variable overridden)."""
    store_user: str | None = None
    """The account the store authenticates (MLflow's MLFLOW_TRACKING_USERNAME), when it is a server."""
    azure_workspace: Mapping[str, str] = field(default_factory=dict)
    """The Azure ML workspace variables (subscription, resource group, workspace, client factory) that are set."""

    @classmethod
    def local(cls, workspace: Path, store_uri: str | None = None) -> "Context":
        """A plain workspace: its embedded SQLite store unless `store_uri` names another."""
        root = workspace.resolve()
        return cls(root, store_uri or embedded_store(root))

    @property
    def authenticated_user(self) -> str | None:
        """Who the store knows this process as: its account on a tracking server, else no one."""
        return self.store_user if self.store_uri.startswith(("http://", "https://")) else None

    @property
    def model_name(self) -> str:
        return self.modelling.registry.model_name

    @property
    def env(self) -> EnvironmentConfig:
        """The environment; commands of the deploy-code flow need one."""
        if self.environment is None:
            raise ValueError("this context has no environment: build it with --env")
        return self.environment

    @property
    def endpoints_dir(self) -> Path:
        return self.workspace / "endpoints"

    @property
    def evidence_dir(self) -> Path:
        return self.workspace / "evidence"

    @property
    def reports_dir(self) -> Path:
        """Model cards of this context's store: the workspace's own store's in `reports/`, another
        store's (a server, $MLFLOW_TRACKING_URI) in a folder named after that store, so none collide."""
        if self.store_uri == embedded_store(self.workspace):
            return self.workspace / "reports"
        return self.workspace / "reports" / f"store-{hashlib.sha256(self.store_uri.encode()).hexdigest()[:10]}"

    @property
    def monitoring_dir(self) -> Path:
        return self.workspace / "monitoring"

    @property
    def pipeline_dir(self) -> Path:
        return self.workspace / "pipeline"

    def child_environ(self) -> dict[str, str]:
        """What a child process needs to build the same context."""
        passed = {WORKSPACE_ENV: str(self.workspace), TRACKING_ENV: self.store_uri}
        if self.commit_override:
            passed[COMMIT_ENV] = self.commit_override
        return passed


def embedded_store(workspace: Path) -> str:
    """The SQLite store that lives in a workspace folder."""
    return f"sqlite:///{workspace / 'mlflow.db'}"


def from_process(env: str | None = None, environ: Mapping[str, str] | None = None) -> Context:
    """The context of this process: its variables, and the environment file of `env` when given.

    Without `env`: $CREDITOPS_WORKSPACE (else the home folder, dev's workspace) and $MLFLOW_TRACKING_URI
    (else the workspace's SQLite store). With `env`: the environment's workspace (see `environment_workspace`)
    and the environment file's store.
    """
    variables = os.environ if environ is None else environ
    commit = variables.get(COMMIT_ENV) or None
    user = variables.get(USER_ENV) or None
    allow_pickle = variables.get(PICKLE_OPT_IN_ENV, "").strip().lower() == "true"
    home = Path(variables.get(HOME_ENV) or DEFAULT_WORKSPACE)
    if env is None:
        workspace = Path(variables.get(WORKSPACE_ENV) or home).resolve()
        store = variables.get(TRACKING_ENV) or embedded_store(workspace)
        return Context(workspace, store, commit_override=commit, allow_pickle=allow_pickle, store_user=user)
    environment = load_environment(env)
    workspace = environment_workspace(home, environment.name)
    config_path = Path(environment.modelling_config) if environment.modelling_config else None
    if environment.built_in and config_path is not None and not config_path.is_file():
        config_path = None  # a folder with no config/ of its own: the built-in defaults throughout
    declared = expand(environment.tracking_uri, variables, env) if environment.tracking_uri else ""
    store = declared or embedded_store(workspace)
    notes: tuple[str, ...] = ()
    ignored = variables.get(TRACKING_ENV)
    if ignored and ignored != store:
        notes = (
            f"{TRACKING_ENV} ({redacted(ignored)}) is set, but the {env} environment file names its own store:"
            f" using {redacted(store)} (name the variable in tracking_uri, e.g. ${{{TRACKING_ENV}}}, to use it)",
        )
    notes += _left_behind(home, environment.name, store)
    modelling = load_modelling_config(config_path)
    azure = {name: variables[name] for name in (*WORKSPACE_VARIABLES, CLIENT_FACTORY) if variables.get(name)}
    return Context(workspace, store, environment, modelling, commit, allow_pickle, notes, user, azure)


def environment_workspace(home: Path, name: str) -> Path:
    """The folder of environment `name`: the home folder itself for dev, the local workspace that commands
    without --env (`make run`, `creditops run`) also use, so dev has one store; `home/envs/NAME` for the
    others, each apart as separate machines would be."""
    return (home if name == LOCAL_ENVIRONMENT else home / "envs" / name).resolve()


def _left_behind(home: Path, name: str, store: str) -> tuple[str, ...]:
    """A note when dev's store from before it moved to the home folder is still there, unread."""
    old = (home / "envs" / name / "mlflow.db").resolve()
    if name != LOCAL_ENVIRONMENT or not old.is_file() or store == embedded_store(old.parent):
        return ()
    return (
        f"{old} is dev's store from an older creditops, no longer read: dev now uses {redacted(store)}, the one"
        f" 'creditops run' registers in; remove {old.parent} when you no longer need it",
    )


_VARIABLE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def expand(value: str, variables: Mapping[str, str], env: str) -> str:
    """`value` with each `${NAME}` replaced by that variable (one line naming it when it is not set), and
    each `${NAME:-DEFAULT}` by the variable or, when it is unset or empty, DEFAULT (which may be empty: an
    environment file's store that is empty means the embedded SQLite store)."""

    def replace(match: re.Match[str]) -> str:
        found = variables.get(match.group(1))
        if not found and match.group(2) is not None:
            return match.group(3)
        if not found:
            raise ConfigError(
                f"the {env} environment's tracking_uri names ${{{match.group(1)}}}, which is not set:"
                f" export {match.group(1)} (in CI, map the secret that holds the store URI to it)"
            )
        return found

    return _VARIABLE.sub(replace, value)


def redacted(uri: str) -> str:
    """`uri` with any password replaced by ***, fit to print."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


def file_refusal(error: OSError, environ: Mapping[str, str] | None = None) -> CreditopsError | None:
    """An OSError on a path as one line naming it, and, when the path lies in a workspace (read-only, or a
    file where its folder should be), the variable that chooses another. None for an error on no path (a
    socket, a process): that is no file the user can fix."""
    if error.filename is None:
        return None
    path = Path(os.fsdecode(error.filename)).resolve()
    problem = f"{error.strerror or type(error).__name__}: {path}"
    variables = os.environ if environ is None else environ
    for variable in (WORKSPACE_ENV, HOME_ENV):
        root = Path(variables.get(variable) or DEFAULT_WORKSPACE).resolve()
        if path.is_relative_to(root):
            return CreditopsError(
                f"{problem} (in the workspace {root}): make {root} a folder this user can write to, or set"
                f" {variable} to one"
            )
    return CreditopsError(f"{problem}: check the path and its permissions")


def set_process_defaults() -> None:
    """What the edges set before any library starts: no MLflow progress bars in creditops' own output, and
    OpenMP threads that sleep instead of spinning while they wait (`OMP_WAIT_POLICY=PASSIVE`, read once
    when the OpenMP runtime loads; so only while LightGBM and scikit-learn are not loaded yet, and never
    over a policy the caller chose). LightGBM then trains on two threads (see `training_threads`)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if "OMP_WAIT_POLICY" not in os.environ and not {"lightgbm", "sklearn", "xgboost"} & set(sys.modules):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
