"""The harness that replays the release workflows as separate runners: each job in a fresh clone,
sharing only the store.

GitHub Actions' release.yml and staging.yml (calling release-flow.yml, against a real MLflow server on
PostgreSQL or a shared SQLite store) and the Azure Pipelines cicd.yml stages run their `run:`/`script:`
steps as written, with the CI's secrets and variables mapped to the test's store, the jobs' `if:` and
the stages' `condition:` evaluated on the outputs the steps wrote, and the CI system's approvals API
answered from recorded answers on 127.0.0.1. A change that breaks the hand-off between jobs (what the
candidate job publishes for the deploy job) fails here.
"""

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import yaml

from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.smoke import post
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names
from creditops.tracking.registry import Registry

from ..small_environments import write_small_environments

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
PIPELINES = REPO / "operations" / "azure_pipelines"
VENV = Path(sys.executable).parents[1]
APPROVER = "replay-reviewer"
"""The GitHub login of the reviewer who approves the deployment in the recorded approvals answer."""
ADO_APPROVER = "reviewer@contoso.example"
"""The Azure DevOps approver's unique name in the recorded approvals answer."""
REPOSITORY = "creditops/replay"
GITHUB = r"\$\{\{(.*?)\}\}"
"""A GitHub Actions expression: `${{ secrets.NAME }}`."""
MACRO = r"\$\(([\w.]+)\)"
"""An Azure Pipelines macro: `$(name)`; `$(command …)` (bash's own substitution) does not match."""
MODEL = "credit_default_model"


COMMITTED: Final = "2024-06-01T10:00:00Z"
"""The date of every clone's commit: the same tree and dates make the same commit on every runner, as
the jobs of one real run check out one SHA (the fingerprint of a version holds the commit)."""


def _clone(folder: Path, data: Path | None = None) -> Path:
    """A fresh checkout of the commit under test, as a new runner has, with the test's virtualenv. Its
    environment files are made small (2,500 rows, a short gate), and staging's and prod's data is `data`
    (the production extract a runner holds): the steps and the hand-off are as written."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(folder)], check=True)
    (folder / ".venv").symlink_to(VENV)
    # no fixed ports: the tree each job commits is the same, and each runner's endpoint takes a free port
    write_small_environments(folder, dict.fromkeys(("dev", "staging", "prod")))
    if data is not None:
        for env in ("staging", "prod"):
            path = folder / "config" / "environments" / f"{env}.yaml"
            settings = yaml.safe_load(path.read_text())
            settings["data"]["path"] = str(data)
            path.write_text(yaml.safe_dump(settings))
    # committed, as a release branch would hold them: prod refuses a release from uncommitted changes
    identity = ["-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
    dated = {**os.environ, "GIT_AUTHOR_DATE": COMMITTED, "GIT_COMMITTER_DATE": COMMITTED}
    subprocess.run(["git", *identity, "commit", "-qam", "small environments"], cwd=folder, env=dated, check=True)
    return folder


def _production_data(folder: Path) -> Path:
    """The production extract the runners hold (one file for every job, as on a self-hosted runner)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "credit_default.parquet"
    done = subprocess.run(
        [str(VENV / "bin" / "creditops"), "data", "synth", "--rows", "2500", "--seed", "303", "--output", str(data)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return data


def _environ(runner: Path, variables: Mapping[str, str]) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("CREDITOPS_", "MLFLOW_"))}
    return {**inherited, "CREDITOPS_HOME": str(runner / ".creditops"), **variables}


@dataclass(frozen=True)
class Ran:
    """A step as it ended: exit code, its whole standard output, and a log to show when a test fails."""

    code: int
    stdout: str
    log: str


def _execute(script: str, runner: Path, variables: Mapping[str, str], shell: list[str]) -> Ran:
    done = subprocess.run([*shell, script], cwd=runner, env=_environ(runner, variables), capture_output=True, text=True)
    log = f"{script}\n--- exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return Ran(done.returncode, done.stdout, log)


def _run(script: str, runner: Path, variables: Mapping[str, str], shell: list[str]) -> None:
    ran = _execute(script, runner, variables, shell)
    assert ran.code == 0, ran.log


def _expand(text: str, pattern: str, values: Mapping[str, str]) -> str:
    """Replace every expression; one the test does not know fails the test (map it here on purpose)."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        assert expression in values, f"the replay does not know {match.group(0)!r}: map it in the test"
        return values[expression]

    return re.sub(pattern, value, text)


def _is_install(script: str) -> bool:
    return script.strip() == "make install"


# --- the approvals APIs, answered from recorded answers -----------------------------------------------


@dataclass
class ApprovalsApi:
    """An HTTP server on 127.0.0.1 answering GET paths from recorded JSON answers; it keeps what was asked."""

    url: str
    answers: dict[str, object]
    asked: list[str] = field(default_factory=list)


@contextmanager
def _approvals_api(answers: dict[str, object]) -> Iterator[ApprovalsApi]:
    api = ApprovalsApi("", answers)

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name for a GET
            path = urlsplit(self.path).path
            api.asked.append(self.path)
            found = path in api.answers and self.headers.get("Authorization", "").startswith("Bearer ")
            body = json.dumps(api.answers[path] if found else {"message": "Not Found"}).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        httpd.shutdown()
        httpd.server_close()


def _github_reviews(run_id: str, environment: str, login: str) -> dict[str, object]:
    """GitHub's "review history for a workflow run", as recorded for a run whose deploy job was approved."""
    review = {
        "environments": [{"id": 161088068, "name": environment, "html_url": "https://github.com/x"}],
        "state": "approved",
        "comment": "gate evidence read, ship it",
        "user": {"login": login, "id": 583231, "type": "User"},
    }
    return {f"/repos/{REPOSITORY}/actions/runs/{run_id}/approvals": [review]}


def _ado_approvals(build_id: str, approver: str) -> dict[str, object]:
    """Azure DevOps' build timeline and Approvals - Query answers for a run whose deploy stage was approved."""
    approval_id = "b6e5a0c8-7b1c-4c6e-9f37-2a7d1c0e4f11"
    timeline = {
        "records": [
            {"id": "0e8a", "type": "Stage", "name": "candidate"},
            {"id": approval_id, "type": "Checkpoint.Approval", "name": "Checkpoint.Approval"},
        ]
    }
    approvals = {
        "count": 1,
        "value": [
            {
                "id": approval_id,
                "status": "approved",
                "pipeline": {"owner": {"id": int(build_id), "name": f"20240601.{build_id}"}, "id": "12"},
                "steps": [
                    {
                        "assignedApprover": {"displayName": "creditops approvers"},
                        "actualApprover": {"displayName": "Replay Reviewer", "uniqueName": approver},
                        "status": "approved",
                        "comment": "evidence read",
                        "lastModifiedOn": "2024-06-01T10:00:00Z",
                    }
                ],
            }
        ],
    }
    return {
        f"/org/creditops/_apis/build/builds/{build_id}/timeline": timeline,
        "/org/creditops/_apis/pipelines/approvals": approvals,
    }


# --- GitHub Actions -------------------------------------------------------------------------------------


_PATH = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")
_SECRET_BY_ENVIRONMENT = re.compile(r"secrets\[format\('\{0\}(_\w+)', inputs\.environment\)\]")
_COMPARISON = re.compile(r"(?P<left>\S+)\s*(?P<op>==|!=)\s*'(?P<right>[^']*)'")


def _github_value(expression: str, context: Mapping[str, Any]) -> str:
    """The value of a GitHub expression the replay knows: a context path (`inputs.environment`,
    `needs.candidate.outputs.version`) or an environment's secret (`secrets[format('{0}_X', inputs.environment)]`).
    Secrets and the `github` context must be mapped; step and job outputs not written are empty, as in GitHub."""
    expression = expression.strip()
    by_environment = _SECRET_BY_ENVIRONMENT.fullmatch(expression)
    if by_environment is not None:
        expression = f"secrets.{context['inputs']['environment'].upper()}{by_environment[1]}"
    assert _PATH.fullmatch(expression), f"the replay does not know the expression {expression!r}"
    root, *rest = expression.split(".")
    assert root in context, f"the replay does not know the context {root!r} in {expression!r}"
    node: Any = context[root]
    for part in rest:
        if root == "secrets":
            part = part.upper()  # GitHub's secret names are case-insensitive
        if not isinstance(node, Mapping) or part not in node:
            assert root in ("steps", "needs", "env"), f"the replay does not know {expression!r}: map it in the test"
            return ""
        node = node[part]
    assert isinstance(node, str), f"{expression!r} is not a value"
    return node


def _github_expand(text: str, context: Mapping[str, Any]) -> str:
    return re.sub(GITHUB, lambda match: _github_value(match.group(1), context), text)


def _github_condition(condition: str | None, context: Mapping[str, Any], succeeded: bool) -> bool:
    """A job's or step's `if:` in the forms the workflows use: terms joined by `&&`, each `always()` or a
    context path compared (`==`, `!=`) with a quoted string. Without `always()`, as in GitHub, it also
    needs everything before to have succeeded. Any other form fails the test."""
    if condition is None:
        return succeeded
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    verdict, status = True, succeeded
    for term in (part.strip() for part in text.split("&&")):
        if term == "always()":
            status = True
            continue
        compared = _COMPARISON.fullmatch(term)
        assert compared is not None, f"the replay does not understand the condition {condition!r}"
        equal = _github_value(compared["left"], context) == compared["right"]
        verdict = verdict and (equal if compared["op"] == "==" else not equal)
    return verdict and status


@dataclass
class JobResult:
    """How a replayed job ended, what it published and wrote to its summary, and its runner's folder."""

    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    runner: Path | None = None
    log: str = ""


@dataclass
class GitHubRun:
    """One replayed workflow run: secrets and `github` context; the runners live in `runners`."""

    runners: Path
    secrets: dict[str, str]
    github: dict[str, str]
    variables: dict[str, str]
    """The runner's default environment variables (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID)."""
    data: Path | None = None
    skip: frozenset[str] = frozenset({"validate"})
    """Jobs not replayed: validate is `creditops ci pr-validation`, which `make test` runs itself."""
    label: str = "run"

    def workflow(self, path: Path, inputs: Mapping[str, str] | None = None) -> dict[str, JobResult]:
        """Run the workflow's jobs in the order of their `needs`; a job calling a local reusable workflow
        runs that workflow's jobs (its results under `caller/job`)."""
        jobs: dict[str, Any] = yaml.safe_load(path.read_text())["jobs"]
        results: dict[str, JobResult] = {}
        for name in _ordered(jobs):
            job = jobs[name]
            needs = [job["needs"]] if isinstance(job.get("needs"), str) else list(job.get("needs", []))
            context = {
                "inputs": dict(inputs or {}),
                "secrets": self.secrets,
                "github": self.github,
                "needs": {need: {"outputs": results[need].outputs} for need in needs},
            }
            succeeded = all(results[need].status == "success" for need in needs)
            if name in self.skip:
                runs = [step["run"] for step in job["steps"] if "run" in step]
                assert runs[-1].startswith(".venv/bin/creditops ci pr-validation")
                results[name] = JobResult("success")
                continue
            if not _github_condition(job.get("if"), context, succeeded):
                results[name] = JobResult("skipped")
                continue
            if "uses" in job:
                assert job["uses"].startswith("./.github/workflows/"), job["uses"]
                assert job.get("secrets") == "inherit", f"job {name} passes the secrets another way"
                given = {key: _github_expand(str(value), context) for key, value in job.get("with", {}).items()}
                called = self.workflow(REPO / job["uses"], given)
                results.update({f"{name}/{inner}": result for inner, result in called.items()})
                failed = any(result.status == "failure" for result in called.values())
                results[name] = JobResult("failure" if failed else "success")
                continue
            results[name] = self.job(name, job, context)
        return results

    def job(self, name: str, job: Mapping[str, Any], context: dict[str, Any]) -> JobResult:
        runner = _clone(self.runners / f"{self.label}-{name}", self.data)
        summary = runner.parent / f"{runner.name}-summary.md"
        summary.touch()
        context = {**context, "steps": {}, "env": {}}
        context["env"] = {key: _github_expand(str(value), context) for key, value in job.get("env", {}).items()}
        succeeded, log = True, ""
        for number, step in enumerate(job["steps"]):
            if "run" not in step or _is_install(step["run"]):
                continue  # checkout, setup-python, upload-artifact, azure/login: the clone and the virtualenv
            if not _github_condition(step.get("if"), context, succeeded):
                continue
            outputs = runner.parent / f"{runner.name}-output-{number}"
            outputs.touch()
            variables = {
                **context["env"],
                **{key: _github_expand(str(value), context) for key, value in step.get("env", {}).items()},
                **self.variables,
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(summary),
            }
            ran = _execute(_github_expand(step["run"], context), runner, variables, ["bash", "-e", "-c"])
            succeeded, log = succeeded and ran.code == 0, ran.log
            if "id" in step:
                written = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
                context["steps"][step["id"]] = {"outputs": written}
        published = {key: _github_expand(str(value), context) for key, value in job.get("outputs", {}).items()}
        return JobResult("success" if succeeded else "failure", published, summary.read_text(), runner, log)


def _ordered(jobs: Mapping[str, Any]) -> list[str]:
    """The jobs in an order their `needs` allow (the replay runs one job at a time)."""
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [
            name
            for name, job in jobs.items()
            if name not in done
            and all(
                need in done for need in ([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []))
            )
        ]
        assert ready, f"the jobs' needs form a cycle: {sorted(set(jobs) - set(done))}"
        done += ready
    return done


def _prod_endpoint_answers(runner: Path, version: str = "1", env: str = "prod") -> None:
    os.environ["CREDITOPS_HOME"] = str(runner / ".creditops")
    context = from_process(env)
    endpoint = state.load(context.endpoints_dir, context.env.endpoint.name)
    answer = post(
        endpoint.url, SAMPLE_REQUEST.read_bytes(), api_key=state.read_key(context.endpoints_dir, endpoint.name)
    )
    assert answer.status_code == 200
    assert answer.json()["model_version"] == version


def _champion_and_approver(store_uri: str, by: str, via: str = "local name", reviewer: str | None = None) -> None:
    registry = Registry(store_uri)
    champion = registry.champion(MODEL)
    assert champion is not None
    assert champion.version == "1"
    assert champion.tags.get(names.APPROVAL_BY) == by
    assert champion.tags.get(names.APPROVAL_VIA) == via
    if reviewer is not None:
        assert f"reviewer {reviewer} approved" in champion.tags.get(names.APPROVAL_REASON, "")
    records = [text for _name, text in registry.run_artifact_texts(champion.run_id or "", "evidence")]
    assert any('"decision": "promoted"' in text and by in text for text in records)


def _github_variables(api: ApprovalsApi, run_id: str) -> dict[str, str]:
    return {"GITHUB_API_URL": api.url, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_RUN_ID": run_id}


def _store_secrets(env: str, uri: str, accounts: bool) -> dict[str, str]:
    prefix = env.upper()
    secrets = {f"{other}_MLFLOW_TRACKING_URI": "" for other in ("STAGING", "PROD")}
    return {
        **secrets,
        f"{prefix}_MLFLOW_TRACKING_URI": uri,
        f"{prefix}_MLFLOW_TRAINER_USERNAME": "ci-trainer" if accounts else "",
        f"{prefix}_MLFLOW_TRAINER_PASSWORD": "trainer-password-1" if accounts else "",
        f"{prefix}_MLFLOW_APPROVER_USERNAME": "ci-approver" if accounts else "",
        f"{prefix}_MLFLOW_APPROVER_PASSWORD": "approver-password-1" if accounts else "",
        **dict.fromkeys(AZURE_SECRETS, ""),  # no Azure ML: the endpoints are local
    }


GATE_TABLE = "| verdict | check | detail |"
AZURE_SECRETS = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_RESOURCE_GROUP",
    "AZUREML_WORKSPACE_NAME",
)


def _azure_steps(template: Path, parameters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """The steps of a job template in order, install templates expanded, compile-time parameters filled
    (with the template's defaults)."""
    declared = yaml.safe_load(template.read_text()).get("parameters", [])
    parameters = {**{p["name"]: str(p["default"]) for p in declared if "default" in p}, **parameters}
    text = _expand(template.read_text(), r"\$\{\{\s*parameters\.(\w+)\s*\}\}", parameters)
    document = yaml.safe_load(text)
    if "steps" in document:  # a steps template
        steps = document["steps"]
    else:  # a job template: a job, or a deployment job's runOnce strategy
        (job,) = document["jobs"]
        steps = job["steps"] if "steps" in job else job["strategy"]["runOnce"]["deploy"]["steps"]
    for step in _chosen(steps, parameters):
        if "template" in step:
            given = {key: str(value) for key, value in step.get("parameters", {}).items()}
            yield from _azure_steps(template.parent / step["template"], {**parameters, **given})
        else:
            yield step


_IF_SET = re.compile(r"\$\{\{\s*if ne\(parameters\.(\w+), ''\)\s*\}\}")


def _chosen(steps: list[dict[str, Any]], parameters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """The steps with compile-time `${{ if ne(parameters.X, '') }}` / `${{ else }}` branches resolved."""
    taken = False
    for step in steps:
        (key, *_) = step
        condition = _IF_SET.fullmatch(key)
        if condition is not None:
            taken = bool(parameters.get(condition[1]))
            yield from step[key] if taken else []
        elif re.fullmatch(r"\$\{\{\s*else\s*\}\}", key):
            yield from [] if taken else step[key]
        else:
            yield step


_BRANCH_CHOICE = re.compile(
    r"\$\{\{\s*(?:(?:else)?if (?P<test>eq|startsWith)"
    r"\(variables\['Build\.SourceBranch'\], '(?P<ref>[^']+)'\)|else)\s*\}\}"
)


def _azure_variables_for(branch: str) -> Path:
    """The variables template cicd.yml includes for a run of `branch` (its compile-time if/elseif/else)."""
    choices = yaml.safe_load((PIPELINES / "cicd.yml").read_text())["variables"]
    for choice in choices:
        ((key, included),) = choice.items()
        matched = _BRANCH_CHOICE.fullmatch(key)
        assert matched is not None, f"the replay does not understand cicd.yml's variables choice {key!r}"
        test, ref = matched["test"], matched["ref"]
        if test is None or (branch == ref if test == "eq" else branch.startswith(ref)):
            ((_, template),) = included[0].items()
            return PIPELINES / template
    raise AssertionError(f"cicd.yml chooses no variables for {branch}")


_OUTPUT_REFERENCE = (
    r"dependencies\.(?P<stage>\w+)\.outputs\['(?P<job>\w+)\.(?P<step>\w+)\.(?P<name>\w+)'\]"
    r"|stageDependencies\.(?P<stage2>\w+)\.(?P<job2>\w+)\.outputs\['(?P<step2>\w+)\.(?P<name2>\w+)'\]"
    r"|variables\['(?P<step3>\w+)\.(?P<name3>\w+)'\]"
)
Outputs = dict[str, dict[str, dict[str, dict[str, str]]]]
"""Output variables set so far: stage → job → step → name → value."""


def _azure_reference(text: str, outputs: Outputs, here: tuple[str, str] = ("", "")) -> str:
    """The value of `dependencies.S.outputs['J.STEP.NAME']` (a stage's condition),
    `stageDependencies.S.J.outputs['STEP.NAME']` (a stage's variables) or `variables['STEP.NAME']` (in the
    job `here` = (stage, job) that set it); a variable never set is empty."""
    found = re.fullmatch(_OUTPUT_REFERENCE, text.strip())
    assert found is not None, f"the replay does not understand {text!r}"
    if found["stage"] is not None:
        where, step, name = (found["stage"], found["job"]), found["step"], found["name"]
    elif found["stage2"] is not None:
        where, step, name = (found["stage2"], found["job2"]), found["step2"], found["name2"]
    else:
        where, step, name = here, found["step3"], found["name3"]
    return outputs.get(where[0], {}).get(where[1], {}).get(step, {}).get(name, "")


def _azure_condition(condition: str, outputs: Outputs, succeeded: bool, here: tuple[str, str] = ("", "")) -> bool:
    """A stage's or step's `condition:` in the forms the pipelines use: `always()`, `succeeded()`,
    `eq(REFERENCE, 'text')` and `and(...)` of them. Any other form fails the test."""
    text = condition.strip()
    if text == "always()":
        return True
    if text == "succeeded()":
        return succeeded
    compared = re.fullmatch(r"eq\((?P<left>[^,]+), '(?P<right>[^']*)'\)", text)
    if compared is not None:
        return _azure_reference(compared["left"], outputs, here) == compared["right"]
    both = re.fullmatch(r"and\((?P<first>always\(\)|succeeded\(\)), (?P<second>.+)\)", text)
    assert both is not None, f"the replay does not understand the condition {condition!r}"
    first = _azure_condition(both["first"], outputs, succeeded, here)
    return first and _azure_condition(both["second"], outputs, succeeded, here)


_SET_OUTPUT = re.compile(r"^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$", re.MULTILINE)
_SUMMARY = re.compile(r"^##vso\[task\.uploadsummary\](.*)$", re.MULTILINE)


@dataclass
class AzureRun:
    """One replayed cicd.yml run of a branch; the stages' runners live in `runners`."""

    runners: Path
    branch: str
    macros: dict[str, str]
    """The variable group's secrets and System.AccessToken."""
    variables: dict[str, str]
    """The agent's predefined environment variables (SYSTEM_COLLECTIONURI, BUILD_BUILDID, ...)."""
    data: Path | None = None
    label: str = "run"

    def run(self) -> dict[str, JobResult]:
        """The candidate and deploy stages (validate is `creditops ci pr-validation`, which `make test`
        runs itself), each stage's condition and variables evaluated on the outputs set before it."""
        cicd = yaml.safe_load((PIPELINES / "cicd.yml").read_text())
        stages = {stage["stage"]: stage for stage in cicd["stages"]}
        chosen = yaml.safe_load(_azure_variables_for(self.branch).read_text())["variables"]
        values = {item["name"]: str(item["value"]) for item in chosen if "name" in item}
        outputs: Outputs = {}
        results: dict[str, JobResult] = {"validate": JobResult("success")}
        for name in ("candidate", "deploy"):
            stage = stages[name]
            succeeded = results[stage["dependsOn"]].status == "success"
            if not _azure_condition(stage.get("condition", "succeeded()"), outputs, succeeded):
                results[name] = JobResult("skipped")
                continue
            stage_macros = {
                key: _azure_reference(value.strip().removeprefix("$[").removesuffix("]"), outputs)
                for key, value in (stage.get("variables") or {}).items()
            }
            (use,) = stage["jobs"]
            parameters = {
                key: _expand(str(value), r"\$\{\{\s*variables\.(\w+)\s*\}\}", values)
                for key, value in use["parameters"].items()
            }
            job = yaml.safe_load((PIPELINES / use["template"]).read_text())["jobs"][0]
            here = (name, job.get("job") or job["deployment"])
            macros = {**values, **self.macros, **stage_macros}
            results[name] = self.job(here, PIPELINES / use["template"], parameters, macros, outputs)
        return results

    def job(
        self,
        here: tuple[str, str],
        template: Path,
        parameters: Mapping[str, str],
        macros: Mapping[str, str],
        outputs: Outputs,
    ) -> JobResult:
        runner = _clone(self.runners / f"{self.label}-{here[0]}", self.data)
        published = outputs.setdefault(here[0], {}).setdefault(here[1], {})
        succeeded, summary, log = True, "", ""
        for step in _azure_steps(template, parameters):
            if "script" not in step or _is_install(step["script"]):
                continue  # UsePythonVersion, checkout and the publishing tasks: the clone and the virtualenv
            if not _azure_condition(step.get("condition", "succeeded()"), outputs, succeeded, here):
                continue
            env = {key: _expand(str(value), MACRO, macros) for key, value in step.get("env", {}).items()}
            script = _expand(step["script"], MACRO, macros)
            ran = _execute(script, runner, {**env, **self.variables}, ["bash", "--noprofile", "--norc", "-c"])
            succeeded, log = succeeded and ran.code == 0, ran.log
            if "name" in step:
                published[step["name"]] = dict(_SET_OUTPUT.findall(ran.stdout))
            for path in _SUMMARY.findall(ran.stdout):
                summary += Path(path.strip()).read_text()
        flat = {name: value for step in published.values() for name, value in step.items()}
        return JobResult("success" if succeeded else "failure", flat, summary, runner, log)


def _cli(runner: Path, variables: Mapping[str, str], *arguments: str, expect: int = 0) -> str:
    done = subprocess.run(
        [str(runner / ".venv" / "bin" / "creditops"), *arguments],
        cwd=runner,
        env=_environ(runner, variables),
        capture_output=True,
        text=True,
    )
    assert done.returncode == expect, f"{arguments}\n--- exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr}"
    return done.stdout
