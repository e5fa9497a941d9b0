"""A new target is one module and one registry entry: an in-memory target, registered here and nowhere
else, driven through every `creditops endpoint` command and a rollout."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from creditops.cli import main
from creditops.context import Context
from creditops.endpoints.decisions import MirrorFigures, StepFigures
from creditops.endpoints.smoke import Check, SmokeReport
from creditops.endpoints.state import Deployment, HistoryEntry, RolloutPlan
from creditops.endpoints.targets import TARGETS, Admit, EndpointView, Health, LogTail, Target
from creditops.errors import CreditopsError
from creditops.say import Say

from ..small_environments import small_project


@dataclass
class Cloud:
    """What the fake target's provider holds: its endpoints' deployments, traffic, plans and logs."""

    deployments: dict[str, dict[str, Deployment]] = field(default_factory=dict)
    traffic: dict[str, dict[str, int]] = field(default_factory=dict)
    plans: dict[str, RolloutPlan | None] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    smoke_answers: bool = True


@dataclass
class FakeTarget:
    """Endpoint `name` on an in-memory provider; a stand-in for a KServe or SageMaker target module."""

    cloud: Cloud
    name: str
    workers: int | None = None

    def _known(self) -> None:
        if self.name not in self.cloud.deployments:
            raise CreditopsError(f"no fake endpoint named {self.name}")

    def create(self, port: int | None, auth: str, workers: int) -> str:
        self.cloud.deployments[self.name], self.cloud.traffic[self.name] = {}, {}
        self.cloud.history[self.name] = []
        self.cloud.log.append(f"created {self.name}")
        return f"fake endpoint {self.name} created"

    def start(self, say: Say) -> str:
        raise CreditopsError("a fake endpoint is always running")

    def deploy_by_hand(self, deployment: str, model_uri: str) -> Deployment:
        return self.deploy(deployment, model_uri)

    def set_traffic_by_hand(self, weights: dict[str, int]) -> dict[str, int]:
        self.set_traffic(weights)
        return self.traffic()

    def deployments(self) -> dict[str, Deployment]:
        self._known()
        return dict(self.cloud.deployments[self.name])

    def invoke(self, body: bytes, deployment: str | None = None) -> httpx.Response:
        live = self.live()
        served = self.cloud.deployments[self.name][deployment] if deployment else live
        version = served.model_version if served else None
        return httpx.Response(200 if served else 503, json={"model_version": version, "predictions": []})

    def send_rows(self, data: Path, deployment: str | None = None) -> tuple[int, float]:
        raise CreditopsError("a fake endpoint takes no data files")

    def show(self) -> EndpointView:
        health = tuple(Health(name, True, "fine") for name in self.deployments())
        record = {"name": self.name, "target": "fake", "traffic": self.traffic()}
        return EndpointView(record, health)

    def logs(self, lines: int, deployment: str | None = None) -> LogTail:
        self._known()
        return LogTail("the fake provider", self.cloud.log[-lines:])

    def follow(self, deployment: str | None, stop: Callable[[], bool]) -> Iterator[str]:
        raise CreditopsError("a fake endpoint's log does not grow")

    def note(self, message: str) -> None:
        self.cloud.log.append(message)

    def credentials(self) -> str:
        return "fake-key"

    def delete(self, keep_logs: bool = False) -> str:
        self._known()
        del self.cloud.deployments[self.name]
        return f"fake endpoint {self.name} deleted"

    def recover(self) -> str:
        plan = self.cloud.plans.get(self.name)
        if plan is None:
            return f"fake endpoint {self.name}: nothing to recover"
        self.restore(plan)
        return f"fake endpoint {self.name}: traffic restored to {plan.weights_before()}"

    def exists(self) -> bool:
        return self.name in self.cloud.deployments

    def ensure(self, port: int | None = None) -> None:
        if not self.exists():
            self.create(port, "key", 1)

    def describe(self) -> str:
        return f"the fake endpoint {self.name}"

    @contextmanager
    def changing(self, what: str, say: Say) -> Iterator[None]:
        yield

    def live(self) -> Deployment | None:
        traffic = self.traffic()
        weighted = [name for name, weight in traffic.items() if weight > 0]
        return self.deployments()[max(weighted, key=traffic.__getitem__)] if weighted else None

    def traffic(self) -> dict[str, int]:
        self._known()
        return dict(self.cloud.traffic[self.name])

    def record_plan(self, plan: RolloutPlan | None) -> None:
        self.cloud.plans[self.name] = plan

    def deploy(self, deployment: str, model_uri: str) -> Deployment:
        self._known()
        version = model_uri.rsplit("/", 1)[-1]
        made = Deployment(deployment, model_uri, version, "credit_default_model", 0.5, f"fake://{deployment}")
        self.cloud.deployments[self.name][deployment] = made
        self.cloud.traffic[self.name].setdefault(deployment, 0)
        self.cloud.log.append(f"{deployment}: serving {model_uri}")
        return made

    def smoke(self, body: bytes, deployment: str) -> SmokeReport:
        answers = self.cloud.smoke_answers
        return SmokeReport(f"fake://{self.name}", (Check("answer", answers, "ok" if answers else "no answer"),), 1.0)

    def set_traffic(self, weights: dict[str, int]) -> None:
        known = self.deployments()
        self.cloud.traffic[self.name] = {name: weights.get(name, 0) for name in known}

    def measure_step(self, body: bytes, step: int, deployment: str, count: int) -> StepFigures:
        return StepFigures(count, 0, 1.0, count, count)

    def measure_mirror(self, body: bytes, deployment: str, percent: int, count: int) -> MirrorFigures:
        return MirrorFigures(count, 0, count, 0, 0.0, 0.0, 1.0)

    def restore(self, plan: RolloutPlan) -> None:
        deployments = self.cloud.deployments[self.name]
        if plan.deployment != plan.replaced:
            deployments.pop(plan.deployment, None)
        self.cloud.traffic[self.name] = {name: plan.before.get(name, 0) for name in deployments}
        self.cloud.plans[self.name] = None

    def retire(self, old: Deployment, remember: bool) -> None:
        self.cloud.deployments[self.name].pop(old.name)
        self.cloud.traffic[self.name].pop(old.name, None)
        if remember:
            self.cloud.history[self.name].append(HistoryEntry(model_uri=old.model_uri, model_version=old.model_version))

    def history(self) -> list[HistoryEntry]:
        return list(self.cloud.history[self.name])

    def forget_last(self) -> None:
        self.cloud.history[self.name].pop()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose dev endpoint is on the `fake` target."""
    return small_project(tmp_path, monkeypatch)


def _target_in_dev(project: Path, target: str) -> None:
    path = project / "config" / "environments" / "dev.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["endpoint"]["target"] = target
    path.write_text(yaml.safe_dump(settings))


def test_a_registered_target_runs_every_endpoint_command_with_no_edit_elsewhere(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a target module's class and one registry entry, and an environment that names it
    cloud = Cloud()

    def fake(context: Context, name: str, workers: int | None, admit: Admit | None) -> Target:
        return FakeTarget(cloud, name, workers)

    monkeypatch.setitem(TARGETS, "fake", fake)
    _target_in_dev(project, "fake")
    endpoint = ["endpoint", "--env", "dev"]

    def run(*arguments: str) -> tuple[int, str, str]:
        code = main([*endpoint, *arguments])
        out, err = capsys.readouterr()
        return code, " ".join(out.split()), " ".join(err.split())

    # When every command runs on it, then each one reaches the target and prints what it answers
    assert run("create", "fake-ep") == (0, "fake endpoint fake-ep created", "")
    code, out, _ = run("deploy", "fake-ep", "--deployment", "blue", "--model", "models:/credit_default_model/1")
    assert (code, out.split(";")[0]) == (0, "deployment blue serves model version 1 on endpoint fake-ep")
    assert run("traffic", "fake-ep", "blue=100")[:2] == (0, "blue=100%")
    code, out, _ = run("invoke", "fake-ep")
    assert (code, json.loads(out)["model_version"]) == (0, "1")
    assert run("invoke", "fake-ep", "--data", "rows.csv")[::2] == (1, "error: a fake endpoint takes no data files")
    code, out, _ = run("show", "fake-ep", "--output", "json")
    assert (code, json.loads(out)) == (0, {"name": "fake-ep", "target": "fake", "traffic": {"blue": 100}})
    assert run("show", "fake-ep")[0] == 0
    assert run("logs", "fake-ep", "--tail", "1")[:2] == (0, "blue: serving models:/credit_default_model/1")
    assert run("get-credentials", "fake-ep")[:2] == (0, "fake-key")
    assert run("start", "fake-ep")[::2] == (1, "error: a fake endpoint is always running")
    assert run("rollout", "fake-ep", "--model", "models:/credit_default_model/2", "--steps", "50,100")[0] == 0
    assert cloud.traffic["fake-ep"] == {"green": 100}
    code, out, _ = run("logs", "fake-ep", "--tail", "20")  # the rollout's steps are in the endpoint's log
    assert code == 0
    for said in ("smoke test of green passed", "green at 50%: checks passed", "retired blue", "done: green serves"):
        assert said in out, said
    assert run("logs", "fake-ep", "--follow")[::2] == (1, "error: a fake endpoint's log does not grow")
    assert run("rollback", "fake-ep")[0] == 0
    assert cloud.traffic["fake-ep"] == {"blue": 100}
    cloud.plans["fake-ep"] = RolloutPlan(1, "green", "models:/credit_default_model/2", {"blue": 100}, None, "now")
    assert run("recover", "fake-ep")[:2] == (0, "fake endpoint fake-ep: traffic restored to blue=100%")
    assert run("delete", "fake-ep") == (0, "fake endpoint fake-ep deleted", "")
    assert run("show", "fake-ep")[::2] == (1, "error: no fake endpoint named fake-ep")


def test_an_unknown_target_is_refused_in_one_line_naming_the_known_ones(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _target_in_dev(project, "kserve")
    assert main(["endpoint", "--env", "dev", "show", "creditops-dev"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith("dev.yaml: endpoint.target: unknown endpoint target 'kserve': use one of local, azureml")
    assert "\n" not in error


def test_every_registered_target_implements_the_whole_interface() -> None:
    from creditops.azure.online import AzureMLTarget
    from creditops.endpoints.targets.base import Target as Interface
    from creditops.endpoints.targets.local import LocalTarget

    wanted = {name for name in vars(Interface) if not name.startswith("_")} - {"name", "workers"}
    for implementation in (LocalTarget, AzureMLTarget, FakeTarget):
        assert wanted <= set(dir(implementation)), implementation.__name__
    assert set(TARGETS) == {"local", "azureml"}


def test_a_failed_rollout_writes_its_reason_and_the_restore_to_the_endpoints_log() -> None:
    from creditops.endpoints import blue_green

    # Given a fake endpoint serving version 1 on blue, whose next deployment will not answer its smoke test
    cloud = Cloud()
    target = FakeTarget(cloud, "fake-ep")
    target.create(None, "key", 1)
    blue_green.rollout(target, "models:/credit_default_model/1", b"{}", (100,), say=lambda _: None)
    cloud.smoke_answers = False
    # When a rollout of version 2 fails
    with pytest.raises(CreditopsError, match="rolled back: smoke test of green failed"):
        blue_green.rollout(target, "models:/credit_default_model/2", b"{}", (50, 100), say=lambda _: None)
    # Then the log says what was tried, why it failed and that the traffic went back
    live = "live: blue, models:/credit_default_model/1"
    assert f"deploying models:/credit_default_model/2 as green ({live})" in cloud.log[-3:]
    assert cloud.log[-1].startswith("rollout of models:/credit_default_model/2 failed: smoke test of green failed")
    assert cloud.log[-1].endswith("traffic restored to blue=100%")
    assert cloud.traffic["fake-ep"] == {"blue": 100}


@pytest.mark.parametrize("environment", [["--env", "dev"], []])
def test_a_rollout_follows_the_environment_files_rollout_and_its_options_override_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, environment: list[str]
) -> None:
    """Without --env, dev's file too: a command without --env works in dev (one dev, not two)."""
    from creditops.endpoints import blue_green

    path = project / "config" / "environments" / "dev.yaml"
    settings = yaml.safe_load(path.read_text())
    settings["rollout"].update(steps=[25, 100], mirror=20, requests_per_step=7, max_p99_ms=90, max_mean_abs_delta=0.3)
    path.write_text(yaml.safe_dump(settings))
    asked: list[tuple[tuple[int, ...], dict[str, object]]] = []

    def rollout(target: object, model: str, body: bytes, steps: tuple[int, ...], **options: object) -> None:
        asked.append((steps, options))
        raise CreditopsError("stop here")

    monkeypatch.setattr(blue_green, "rollout", rollout)
    rollout_command = ["endpoint", "rollout", "creditops-dev", "--model", "models:/credit_default_model/1"]
    assert main([*rollout_command, *environment]) == 1
    assert main([*rollout_command, *environment, "--steps", "50,100", "--mirror", "0", "--max-p99-ms", "400"]) == 1
    (steps, options), (overridden_steps, overridden) = asked
    assert steps == (25, 100)
    assert (options["mirror_percent"], options["requests_per_step"], options["max_p99_ms"]) == (20, 7, 90)
    assert options["max_error_rate"] == 0.01
    limits = options["mirror_limits"]
    assert (limits.max_mean_abs_delta, limits.max_p99_ms) == (0.3, 90)  # type: ignore[attr-defined]
    assert overridden_steps == (50, 100)
    assert (overridden["mirror_percent"], overridden["requests_per_step"], overridden["max_p99_ms"]) == (0, 7, 400)
