"""The context a command works in: its MLflow store, its workspace folder and, with --env, its environment.

Built once at the edge (the CLI, a step's `main`, a server's start) from the process environment, then
passed down: nothing below this module reads MLFLOW_TRACKING_URI or CREDITOPS_WORKSPACE. Child processes
get the same context back through `child_environ()`.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from creditops.config.environments import EnvironmentConfig, load_environment
from creditops.config.modelling import ModellingConfig, load_modelling_config

WORKSPACE_ENV: Final = "CREDITOPS_WORKSPACE"
HOME_ENV: Final = "CREDITOPS_HOME"
TRACKING_ENV: Final = "MLFLOW_TRACKING_URI"
COMMIT_ENV: Final = "CREDITOPS_GIT_COMMIT"
PICKLE_OPT_IN_ENV: Final = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
DEFAULT_WORKSPACE: Final = ".creditops"


@dataclass(frozen=True)
class Context:
    """Where a command reads and writes: one store, one workspace folder, optionally one environment."""

    workspace: Path
    store_uri: str
    environment: EnvironmentConfig | None = None
    modelling: ModellingConfig = field(default_factory=ModellingConfig)
    commit_override: str | None = None
    allow_pickle: bool = False

    @classmethod
    def local(cls, workspace: Path, store_uri: str | None = None) -> "Context":
        """A plain workspace: its embedded SQLite store unless `store_uri` names another."""
        root = workspace.resolve()
        return cls(root, store_uri or embedded_store(root))

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
        return self.workspace / "reports"

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

    Without `env`: $CREDITOPS_WORKSPACE (else `.creditops`) and $MLFLOW_TRACKING_URI (else the
    workspace's SQLite store). With `env`: `$CREDITOPS_HOME/envs/ENV` and the environment file's store.
    """
    variables = os.environ if environ is None else environ
    commit = variables.get(COMMIT_ENV) or None
    allow_pickle = variables.get(PICKLE_OPT_IN_ENV, "").strip().lower() == "true"
    if env is None:
        workspace = Path(variables.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()
        store = variables.get(TRACKING_ENV) or embedded_store(workspace)
        return Context(workspace, store, commit_override=commit, allow_pickle=allow_pickle)
    environment = load_environment(env)
    workspace = (Path(variables.get(HOME_ENV) or DEFAULT_WORKSPACE) / "envs" / environment.name).resolve()
    config_path = Path(environment.modelling_config) if environment.modelling_config else None
    return Context(
        workspace,
        environment.tracking_uri or embedded_store(workspace),
        environment,
        load_modelling_config(config_path),
        commit,
        allow_pickle,
    )


def quiet_mlflow() -> None:
    """No MLflow progress bars in creditops' own output (set at the edge, before MLflow is used)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
