"""The README's closed-loop demo, run as written in a fresh clone: each line's exit status is the one its
comment names ("exit 4"), else 0. Only the dev endpoint's port is changed, to a free one."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from creditops import processes
from creditops.tracking.registry import Registry

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parents[1]
MARKER = "<!-- demo: closed-loop -->"


def demo_lines() -> list[str]:
    """The commands of the README's closed-loop demo, in order."""
    text = (REPO / "README.md").read_text()
    block = re.search(re.escape(MARKER) + r"\n```bash\n(.*?)\n```", text, flags=re.DOTALL)
    assert block is not None, f"the README has no bash block after {MARKER}"
    return [line for line in block[1].splitlines() if line.strip()]


def expected_exit(line: str) -> int:
    found = re.search(r"#.*\bexit (\d)\b", line)
    return int(found[1]) if found else 0


def test_expected_exits_are_read_from_the_comments() -> None:
    assert expected_exit("creditops monitor drift --env dev --since 10s       # PAY_* drift, ...: exit 4") == 4
    assert expected_exit("creditops monitor drift --env dev --since 5m        # no drift: exit 0") == 0
    assert expected_exit("creditops endpoint --env dev delete creditops-dev") == 0


def test_the_demo_reads_and_writes_only_where_git_ignores() -> None:
    # a newcomer's `git add .` after the demo must not pick up its traffic and outcomes files
    ignored = {line.strip().rstrip("/") for line in (REPO / ".gitignore").read_text().splitlines()}
    paths = [path for line in demo_lines() for path in re.findall(r"--(?:data|output|outcomes) (\S+)", line)]
    assert len(paths) >= 5
    outside = [path for path in paths if Path(path).parts[0] not in ignored]
    assert not outside, f"the demo's files belong under an ignored folder (demo/): {outside}"


def test_the_closed_loop_demo_runs_as_written(tmp_path: Path) -> None:
    project = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(project)], check=True)
    (project / ".venv").symlink_to(VENV)
    dev = project / "config" / "environments" / "dev.yaml"
    settings = yaml.safe_load(dev.read_text())
    settings["endpoint"]["port"] = processes.free_port()
    dev.write_text(yaml.safe_dump(settings))
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    environ = {**inherited, "CREDITOPS_HOME": str(project / ".creditops"), "COLUMNS": "200"}
    outputs = {}
    try:
        for line in demo_lines():
            if line.startswith("source "):
                continue
            done = subprocess.run(
                ["bash", "-c", f"source .venv/bin/activate && {line}"],
                cwd=project,
                env=environ,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == expected_exit(line), f"{line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            outputs[line.split("#")[0].strip()] = done.stdout
    finally:
        subprocess.run(
            ["bash", "-c", "source .venv/bin/activate && creditops endpoint --env dev delete creditops-dev"],
            cwd=project,
            env=environ,
            capture_output=True,
        )
    explained = outputs["creditops endpoint --env dev invoke creditops-dev --explain 3"]
    assert '"reasons"' in explained
    assert '"code": "R0' in explained
    monitored = outputs["creditops ci monitor --env dev --outcomes demo/concept-outcomes.csv"]
    assert "retraining in dev: " in monitored
    assert "outcomes: ROC AUC" in monitored
    assert "version 2 is the champion in dev" in monitored
    registry = Registry(f"sqlite:///{project / '.creditops' / 'mlflow.db'}")  # dev is the local workspace
    champion = registry.champion("credit_default_model")
    assert champion is not None
    assert champion.version == "2"
    attached = [name for name, _ in registry.run_artifact_texts(champion.run_id or "", "monitoring")]
    assert any(name.startswith("outcomes-dev-") and name.endswith(".html") for name in attached), attached
