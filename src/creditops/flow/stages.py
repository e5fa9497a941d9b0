"""The checks CI runs, listed once: `make lint/security/unit/test`, `.ci/run`, `creditops ci pr-validation`,
GitHub Actions and Azure Pipelines all take their commands from here (`creditops ci stage NAME`)."""

import subprocess  # nosec B404
import sys
from pathlib import Path
from typing import Final

from creditops.errors import CreditopsError

CHECKED: Final = ("src", "tests", "benchmarks", "tools")
COMMANDS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "lint": (("ruff", "check", *CHECKED), ("ruff", "format", "--check", *CHECKED), ("mypy",)),
    "security": (("bandit", "--quiet", "--recursive", "--configfile", "pyproject.toml", "src"),),
    "unit": (("pytest", "-q", "-m", "not e2e", "-n", "2", "--cov", "--cov-report="),),
    "e2e": (
        ("pytest", "-q", "-m", "e2e", "-n", "2", "--dist", "loadfile", "--cov", "--cov-append", "--cov-report=term"),
    ),
    "mutation": (("python", "tools/mutation_report.py", "--minimum", "95"),),
}
"""Each stage's commands, run in order from the project root with the tools of this interpreter. The
end-to-end tests run in two processes, a test file per process at a time: most of their time is spent
waiting on servers and subprocesses, so two share even a 2-core machine (9.6 → 6.2 min measured)."""
REPORTED: Final = {"unit": "junit-unit.xml", "e2e": "junit-e2e.xml"}
LINT_REPORTS: Final = {"ruff": "junit-ruff.xml", "mypy": "junit-mypy.xml", "bandit": "junit-bandit.xml"}
"""The JUnit files of the lint and security stages, beside the tests' (CI publishes `junit-*.xml`)."""


def commands(stage: str, reports: Path | None = None) -> list[list[str]]:
    """The commands of `stage`, writing JUnit and coverage XML into `reports` where given."""
    if stage not in COMMANDS:
        raise CreditopsError(f"unknown stage {stage!r}: the stages are {', '.join(COMMANDS)}")
    listed = [list(command) for command in COMMANDS[stage]]
    if reports is None:
        return listed
    if stage in REPORTED:
        listed[-1] += [f"--junitxml={reports / REPORTED[stage]}", f"--cov-report=xml:{reports / 'coverage.xml'}"]
    elif stage == "lint":
        # ruff and bandit write JUnit instead of their readable findings, so each runs once more for the
        # report alone (never failing: the readable run decides); mypy writes both in one run.
        ruff = ["ruff", "check", "--exit-zero", "--output-format", "junit", "--output-file"]
        listed.insert(0, [*ruff, str(reports / LINT_REPORTS["ruff"]), *CHECKED])
        listed[-1] += ["--junit-xml", str(reports / LINT_REPORTS["mypy"])]
    elif stage == "security":
        (bandit,) = listed
        junit = ["--exit-zero", "--format", "xml", "--output", str(reports / LINT_REPORTS["bandit"])]
        listed.insert(0, [*bandit, *junit])
    return listed


def executable(project: Path, command: list[str]) -> list[str]:
    """`command` with its program taken from this interpreter's environment (no PATH needed)."""
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    installed = Path(sys.executable).parent / command[0]
    program = [str(installed)] if installed.exists() else [sys.executable, "-m", command[0]]
    return [*program, *command[1:]]


def run_stage(stage: str, project: Path, reports: Path | None = None, *, capture: bool = True) -> str:
    """Run every command of `stage`; the last line of output, or a one-line error naming the failed command."""
    last = ""
    for command in commands(stage, reports):
        last = run_command(executable(project, command), project, capture=capture, shown=command)
    return last


def run_command(
    command: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    capture: bool = True,
    shown: list[str] | None = None,
) -> str:
    """Run `command` (a fixed argument list, no shell); its last line of output, or a one-line error naming
    the command as `shown` (by default with the program's file name only) and how it ended."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=capture, text=True)  # nosec B603
    lines = ((done.stdout or "") + (done.stderr or "")).strip().splitlines()
    last = lines[-1] if lines else ""
    if done.returncode != 0:
        named = shown if shown is not None else [Path(command[0]).name, *command[1:]]
        ended = f": {last}" if last else f" (exit {done.returncode})"
        raise CreditopsError(f"'{' '.join(named)}' failed{ended}")
    return last
