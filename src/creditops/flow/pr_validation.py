"""PR validation: the stages CI runs on a pull request, and a person runs the same way.

lint and type check → security → unit tests → end-to-end tests (the commands of `flow/stages.py`, which
`make test` runs too) → integration (the pipeline on dev data in a throwaway store) → smoke test on an
ephemeral endpoint (created, deployed, invoked, and always deleted): a local one, or with the Azure ML
workspace variables given, a managed online endpoint in that workspace. Reports go to `reports/`; the
throwaway folder is removed, also when a stage fails.
"""

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Final

from creditops.config.environments import load_environment
from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.files import sweep_dead
from creditops.flow.stages import COMMANDS, run_command, run_stage
from creditops.say import Say, silent
from creditops.serving.protocol import SAMPLE_REQUEST

STAGES: Final = (*COMMANDS, "integration", "smoke")
CHAMPION_URI: Final = "models:/credit_default_model@champion"


@dataclass(frozen=True)
class StageResult:
    name: str
    passed: bool
    seconds: float
    detail: str
    skipped: bool = False

    @classmethod
    def not_run(cls, name: str) -> "StageResult":
        """A stage left out with --skip: listed, so a partial run never reads as a complete one."""
        return cls(name, passed=False, seconds=0.0, detail="not run (--skip)", skipped=True)

    @property
    def failed(self) -> bool:
        return not (self.passed or self.skipped)


def run_pr_validation(
    project: Path,
    reports: Path,
    *,
    skip: tuple[str, ...] = (),
    say: Say = print,
    azure_workspace: Mapping[str, str] | None = None,
) -> list[StageResult]:
    """Run every stage not in `skip` (those are listed as not run); a failed stage does not stop the later
    ones. With `azure_workspace`, the smoke test's ephemeral endpoint is on Azure ML."""
    unknown = sorted(set(skip) - set(STAGES))
    if unknown:
        raise CreditopsError(f"unknown stage(s) {', '.join(unknown)}: the stages are {', '.join(STAGES)}")
    if not (project / "pyproject.toml").is_file():
        raise CreditopsError(f"{project} is not the creditops project root (no pyproject.toml): run from there")
    reports.mkdir(parents=True, exist_ok=True)
    sweep_dead(Path(tempfile.gettempdir()), "creditops-pr-")
    scratch = Path(tempfile.mkdtemp(prefix=f"creditops-pr-{os.getpid()}-"))
    stages: dict[str, Callable[[], str]] = {
        **{stage: partial(_checks, stage, project, reports) for stage in COMMANDS},
        "integration": lambda: _integration(scratch),
        "smoke": lambda: _smoke(scratch) if azure_workspace is None else azure_smoke(scratch, azure_workspace),
    }
    results = []
    try:
        for name in STAGES:
            if name in skip:
                results.append(StageResult.not_run(name))
                continue
            say(f"stage {name} …")
            started = time.perf_counter()
            try:
                detail, passed = stages[name](), True
            except CreditopsError as failure:
                detail, passed = str(failure), False
            results.append(StageResult(name, passed, time.perf_counter() - started, detail))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def _checks(stage: str, project: Path, reports: Path) -> str:
    return run_stage(stage, project, reports) or f"{stage} passed"


def _integration(scratch: Path) -> str:
    env = _throwaway_env(scratch)
    data = scratch / "dev-data.parquet"
    _creditops(["data", "synth", "--rows", "3000", "--seed", "101", "--output", str(data)], env)
    _creditops(["run", "--data", str(data), "--summary-json", str(scratch / "summary.json")], env)
    return "pipeline ran on dev data; a champion is registered in the throwaway store"


def _smoke(scratch: Path) -> str:
    env = _throwaway_env(scratch)
    name = f"pr-{os.getpid()}"
    _creditops(["endpoint", "create", name], env)
    try:
        _creditops(
            ["endpoint", "deploy", name, "--deployment", "blue", "--model", CHAMPION_URI],
            env,
        )
        _creditops(["endpoint", "traffic", name, "blue=100"], env)
        _creditops(["endpoint", "invoke", name], env)
        return f"ephemeral endpoint {name} answered the sample request"
    finally:
        _creditops(["endpoint", "delete", name], env)


def azure_smoke(scratch: Path, variables: Mapping[str, str], ml: Any = None) -> str:
    """The smoke test on an ephemeral Azure ML endpoint: the throwaway store's champion deployed,
    smoke-tested through its deployment name and invoked; the endpoint is always deleted."""
    from creditops.azure.online import AzureMLTarget
    from creditops.azure.workspace import client, require_workspace
    from creditops.endpoints import blue_green

    require_workspace(variables, "the Azure ML smoke test")
    dev = load_environment("dev")
    environment = dev.model_copy(update={"endpoint": dev.endpoint.model_copy(update={"target": "azureml"})})
    local = Context.local(scratch / "workspace")
    context = replace(local, environment=environment, azure_workspace=dict(variables))
    name = f"pr-{os.getpid()}"
    target = AzureMLTarget(context, name, ml if ml is not None else client(variables))
    try:
        target.ensure()
        blue_green.rollout(target, CHAMPION_URI, SAMPLE_REQUEST.read_bytes(), (100,), say=silent)
        answer = target.invoke(SAMPLE_REQUEST.read_bytes())
        if answer.status_code != 200:
            raise CreditopsError(
                f"ephemeral Azure ML endpoint {name} answered {answer.status_code}: {answer.text[:200]}"
            )
        return f"ephemeral Azure ML endpoint {name} answered the sample request"
    finally:
        if target.exists():
            target.delete()


def _throwaway_env(scratch: Path) -> dict[str, str]:
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace")}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _creditops(arguments: list[str], env: dict[str, str]) -> str:
    return run_command([sys.executable, "-m", "creditops", *arguments], Path.cwd(), env=env) or "no output"
