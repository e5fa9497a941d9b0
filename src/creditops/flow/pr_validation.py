"""PR validation: the stages CI runs on a pull request, and a person runs the same way.

lint → security → unit tests → integration (the pipeline on dev data in a throwaway store) → smoke test
on an ephemeral endpoint (created, deployed, invoked, and always deleted). Reports go to `reports/`.
"""

import os
import subprocess  # nosec B404
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from creditops.errors import CreditopsError

STAGES: Final = ("lint", "security", "unit", "integration", "smoke")
Say = Callable[[str], None]


@dataclass(frozen=True)
class StageResult:
    name: str
    passed: bool
    seconds: float
    detail: str


def run_pr_validation(
    project: Path, reports: Path, *, skip: tuple[str, ...] = (), say: Say = print
) -> list[StageResult]:
    """Run every stage not in `skip`; a failed stage does not stop the later ones."""
    unknown = sorted(set(skip) - set(STAGES))
    if unknown:
        raise CreditopsError(f"unknown stage(s) {', '.join(unknown)}: the stages are {', '.join(STAGES)}")
    if not (project / "pyproject.toml").is_file():
        raise CreditopsError(f"{project} is not the creditops project root (no pyproject.toml): run from there")
    reports.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="creditops-pr-"))
    stages: dict[str, Callable[[], str]] = {
        "lint": lambda: _lint(project),
        "security": lambda: _security(project),
        "unit": lambda: _unit(project, reports),
        "integration": lambda: _integration(scratch),
        "smoke": lambda: _smoke(scratch),
    }
    results = []
    for name in STAGES:
        if name in skip:
            continue
        say(f"stage {name} …")
        started = time.perf_counter()
        try:
            detail, passed = stages[name](), True
        except CreditopsError as failure:
            detail, passed = str(failure), False
        results.append(StageResult(name, passed, time.perf_counter() - started, detail))
    return results


def _lint(project: Path) -> str:
    _command(project, ["ruff", "check", "src", "tests", "benchmarks"])
    _command(project, ["ruff", "format", "--check", "src", "tests", "benchmarks"])
    return "ruff check and format check passed"


def _security(project: Path) -> str:
    _command(project, ["bandit", "--quiet", "-r", "-c", "pyproject.toml", "src"])
    return "bandit found no issue"


def _unit(project: Path, reports: Path) -> str:
    arguments = [
        *("pytest", "-q", "-m", "not e2e", f"--junitxml={reports / 'junit-unit.xml'}"),
        *("--cov", f"--cov-report=xml:{reports / 'coverage.xml'}"),
    ]
    return _command(project, arguments)


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
            ["endpoint", "deploy", name, "--deployment", "blue", "--model", "models:/credit_default_model@champion"],
            env,
        )
        _creditops(["endpoint", "traffic", name, "blue=100"], env)
        _creditops(["endpoint", "invoke", name], env)
        return f"ephemeral endpoint {name} answered the sample request"
    finally:
        _creditops(["endpoint", "delete", name], env)


def _throwaway_env(scratch: Path) -> dict[str, str]:
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace")}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _creditops(arguments: list[str], env: dict[str, str]) -> str:
    return _run([sys.executable, "-m", "creditops", *arguments], Path.cwd(), env)


def _command(project: Path, arguments: list[str]) -> str:
    executable = Path(sys.executable).parent / arguments[0]
    program = [str(executable)] if executable.exists() else [sys.executable, "-m", arguments[0]]
    return _run([*program, *arguments[1:]], project, dict(os.environ))


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)  # nosec B603
    output = (done.stdout + done.stderr).strip().splitlines()
    last = output[-1] if output else "no output"
    if done.returncode != 0:
        raise CreditopsError(
            f"'{' '.join(Path(command[0]).name if i == 0 else c for i, c in enumerate(command))}' failed: {last}"
        )
    return last
