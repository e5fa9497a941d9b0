"""The Azure ML target: a managed online endpoint (key auth) with blue/green deployments.

Every operation goes through azure-ai-ml's MLClient; every entity is built from the same spec functions
`creditops azure render` writes, and loaded through the SDK's own schema. Requests (smoke tests, the
checks at each traffic step) go to the endpoint's scoring URI with its key, as any client's would, and
Azure ML's `azureml-model-deployment` response header tells which deployment answered.

The rollout's plan and the endpoint's history (for rollback) live in the endpoint's tags, so that a CI
agent that disappears leaves them where the next agent finds them.
"""

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import yaml

from creditops.azure.models import package_copy, spec_stream, workspace_model
from creditops.azure.render import conda_spec, environment_spec, online_deployment_spec, online_endpoint_spec
from creditops.azure.workspace import client as workspace_client
from creditops.context import Context
from creditops.endpoints.decisions import MirrorFigures, StepFigures, checked_weights, p99
from creditops.endpoints.smoke import SmokeReport, post, probe_share, smoke_test
from creditops.endpoints.state import Deployment, HistoryEntry, RolloutPlan
from creditops.endpoints.targets.base import EndpointView, LogTail
from creditops.errors import CreditopsError, first_line
from creditops.say import Say
from creditops.tracking import names

PLAN_TAG: Final = "creditops.rollout"
HISTORY_TAG: Final = "creditops.history"
HISTORY_KEPT: Final = 3
"""Tag values are short strings: the newest models an endpoint served before, enough to roll back."""
MAX_MIRROR: Final = 50
"""Azure ML mirrors at most 50 % of live traffic to one deployment."""


@dataclass
class AzureMLTarget:
    """Endpoint `name` in the workspace `ml` (an MLClient) is connected to."""

    context: Context
    name: str
    ml: Any
    workers: int | None = None

    @classmethod
    def connect(cls, context: Context, name: str) -> "AzureMLTarget":
        return cls(context, name, workspace_client(context.azure_workspace))

    # what the endpoint is

    def _endpoint(self) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self.ml.online_endpoints.get(self.name)
        except ResourceNotFoundError as error:
            raise CreditopsError(
                f"no Azure ML endpoint named {self.name} in the workspace: create it with"
                f" 'creditops endpoint --env {self.context.env.name} create {self.name}' (a release creates it too)"
            ) from error

    def exists(self) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.ml.online_endpoints.get(self.name)
        except ResourceNotFoundError:
            return False
        return True

    def ensure(self, port: int | None = None) -> None:
        """The endpoint and the scoring environment, created when missing (`port` has no meaning here)."""
        from azure.ai.ml import load_environment, load_online_endpoint

        environment = self.context.env
        with tempfile.TemporaryDirectory() as scratch:
            conda = Path(scratch) / "conda.yml"
            conda.write_text(yaml.safe_dump(conda_spec()), encoding="utf-8")
            spec = environment_spec(f"creditops-{environment.name}", str(conda))
            self.ml.environments.create_or_update(load_environment(spec_stream(spec)))
        if not self.exists():
            endpoint = load_online_endpoint(spec_stream(online_endpoint_spec(environment, self.name)))
            self.ml.online_endpoints.begin_create_or_update(endpoint).result()

    def describe(self) -> str:
        endpoint = self._endpoint()
        workspace = self.context.azure_workspace.get("AZUREML_WORKSPACE_NAME", "?")
        return f"the Azure ML endpoint {self.name} at {endpoint.scoring_uri} (workspace {workspace})"

    def deployments(self) -> dict[str, Deployment]:
        """Each deployment, as the model it serves."""
        found = {}
        for item in self.ml.online_deployments.list(endpoint_name=self.name):
            variables = item.environment_variables or {}
            found[item.name] = Deployment(
                item.name,
                (item.tags or {}).get("creditops.model_uri", ""),
                variables.get("CREDITOPS_MODEL_VERSION", ""),
                variables.get("CREDITOPS_MODEL_NAME", ""),
                float(variables.get("CREDITOPS_THRESHOLD", "0.5")),
                str(item.model),
            )
        return found

    def live(self) -> Deployment | None:
        traffic = self.traffic()
        deployments = self.deployments()
        weighted = [name for name, weight in traffic.items() if weight > 0 and name in deployments]
        return deployments[max(weighted, key=lambda name: traffic[name])] if weighted else None

    def traffic(self) -> dict[str, int]:
        return {name: int(weight) for name, weight in (self._endpoint().traffic or {}).items()}

    # the change in progress

    def changing(self, what: str, say: Say) -> AbstractContextManager[None]:
        return self._changing(what)

    @contextmanager
    def _changing(self, what: str) -> Iterator[None]:
        plan = self._plan()
        if plan is not None:
            raise CreditopsError(
                f"endpoint {self.name} has a rollout of {plan.model_uri} in progress (pid {plan.pid}, at"
                f" '{plan.step}', started {plan.started_at}): wait for it, or, if its process is gone, run"
                f" 'creditops endpoint --env {self.context.env.name} recover {self.name}'"
            )
        yield

    def _plan(self) -> RolloutPlan | None:
        recorded = (self._endpoint().tags or {}).get(PLAN_TAG)
        return RolloutPlan(**orjson.loads(recorded)) if recorded else None

    def record_plan(self, plan: RolloutPlan | None) -> None:
        """Only a new or finished plan is written: an endpoint update costs a round trip to Azure."""
        endpoint = self._endpoint()
        tags = dict(endpoint.tags or {})
        recorded = tags.get(PLAN_TAG)
        if plan is None:
            tags.pop(PLAN_TAG, None)
        elif recorded is None or orjson.loads(recorded)["started_at"] != plan.started_at:
            tags[PLAN_TAG] = orjson.dumps({**asdict(plan), "step": "started"}).decode()
        if tags.get(PLAN_TAG) != recorded:
            endpoint.tags = tags
            self.ml.online_endpoints.begin_create_or_update(endpoint).result()

    def recover(self) -> str:
        """Undo a rollout whose process (on any machine) is gone."""
        plan = self._plan()
        if plan is None:
            return f"endpoint {self.name} has no unfinished rollout: nothing to recover"
        self.restore(plan)
        return f"an unfinished rollout of {plan.model_uri} was undone: traffic restored to {plan.weights_before()}"

    # the steps of a rollout

    def deploy(self, deployment: str, model_uri: str) -> Deployment:
        from azure.ai.ml import load_online_deployment

        model = workspace_model(self.ml, self.context.store_uri, model_uri)
        environment = self.context.env
        with tempfile.TemporaryDirectory() as scratch:
            code = package_copy(Path(scratch))
            served = (model.version, model.threshold)
            spec = online_deployment_spec(environment, deployment, model.reference, str(code), served, self.name)
            entity = load_online_deployment(spec_stream(spec))
            entity.tags = {"creditops.model_uri": model_uri, names.FINGERPRINT: model.fingerprint}
            try:
                self.ml.online_deployments.begin_create_or_update(entity).result()
            except Exception as error:  # the SDK raises several kinds; the first line says which
                raise CreditopsError(f"deployment {deployment} of {model_uri} failed: {first_line(error)}") from error
        return Deployment(deployment, model_uri, model.version, model.name, model.threshold, model.reference)

    def _address(self) -> tuple[str, str | None]:
        endpoint = self._endpoint()
        keys = self.ml.online_endpoints.get_keys(self.name)
        return str(endpoint.scoring_uri), getattr(keys, "primary_key", None)

    def smoke(self, body: bytes, deployment: str) -> SmokeReport:
        url, key = self._address()
        expected = self.deployments()[deployment].model_version
        return smoke_test(url, body, api_key=key, deployment=deployment, expected_version=expected)

    def set_traffic(self, weights: dict[str, int]) -> None:
        endpoint = self._endpoint()
        endpoint.traffic = checked_weights(weights, self.deployments(), self.name)
        self.ml.online_endpoints.begin_create_or_update(endpoint).result()

    def _set_mirror(self, mirror: dict[str, int]) -> None:
        endpoint = self._endpoint()
        endpoint.mirror_traffic = mirror
        self.ml.online_endpoints.begin_create_or_update(endpoint).result()

    def measure_step(self, body: bytes, step: int, deployment: str, count: int) -> StepFigures:
        """Requests through the endpoint until `deployment` has answered its share of `count`; its figures
        as the client saw them (errors and latency of the requests it answered)."""
        url, key = self._address()
        run = probe_share(url, body, api_key=key, deployment=deployment, step=step, count=count)
        latencies = run.latencies_by_new_ms
        failed = run.unreachable + run.errors_by_new
        return StepFigures(len(latencies), failed, p99(latencies) if latencies else 0.0, len(latencies), run.sent)

    def measure_mirror(self, body: bytes, deployment: str, percent: int, count: int) -> MirrorFigures:
        """Mirror `percent` % of live requests while `count` go through the endpoint. Azure ML discards
        the mirrored answers, so the comparison is made on the same request sent to both deployments."""
        if percent > MAX_MIRROR:
            raise CreditopsError(f"Azure ML mirrors at most {MAX_MIRROR}% of live traffic, not {percent}%")
        live = self.live()
        if live is None:
            raise CreditopsError(f"endpoint {self.name} has no live deployment to mirror")
        url, key = self._address()
        self._set_mirror({deployment: percent})
        try:
            for _ in range(count):
                post(url, body, api_key=key, probe=True)
            return _compare(url, key, body, live.name, deployment, max(1, count * percent // 100))
        finally:
            self._set_mirror({})

    def restore(self, plan: RolloutPlan) -> None:
        endpoint = self._endpoint()
        deployments = self.deployments()
        endpoint.traffic = {name: plan.before.get(name, 0) for name in deployments}
        endpoint.mirror_traffic = {}
        endpoint.tags = {key: value for key, value in (endpoint.tags or {}).items() if key != PLAN_TAG}
        self.ml.online_endpoints.begin_create_or_update(endpoint).result()
        if plan.deployment in deployments and plan.deployment != plan.replaced:
            self.ml.online_deployments.begin_delete(name=plan.deployment, endpoint_name=self.name).result()

    def retire(self, old: Deployment, remember: bool) -> None:
        self.ml.online_deployments.begin_delete(name=old.name, endpoint_name=self.name).result()
        if remember:
            entry = HistoryEntry(model_uri=old.model_uri, model_version=old.model_version)
            self._write_history([*self.history(), entry][-HISTORY_KEPT:])

    def history(self) -> list[HistoryEntry]:
        recorded = (self._endpoint().tags or {}).get(HISTORY_TAG)
        return list(orjson.loads(recorded)) if recorded else []

    def forget_last(self) -> None:
        self._write_history(self.history()[:-1])

    def _write_history(self, history: list[HistoryEntry]) -> None:
        endpoint = self._endpoint()
        endpoint.tags = {**(endpoint.tags or {}), HISTORY_TAG: orjson.dumps(history).decode()}
        self.ml.online_endpoints.begin_create_or_update(endpoint).result()

    # what people run by hand

    def create(self, port: int | None = None, auth: str = "key", workers: int = 1) -> str:
        """`ensure` (Azure ML endpoints use key auth; `port` and `workers` have no meaning here)."""
        self.ensure()
        return f"{self.describe()} (auth: key)"

    def start(self, say: Say = print) -> str:
        raise CreditopsError(
            f"the Azure ML endpoint {self.name} runs while it exists: nothing to start; see"
            f" 'creditops endpoint --env {self.context.env.name} show {self.name}'"
        )

    def deploy_by_hand(self, deployment: str, model_uri: str) -> Deployment:
        self.ensure()
        return self.deploy(deployment, model_uri)

    def set_traffic_by_hand(self, weights: dict[str, int]) -> dict[str, int]:
        self.set_traffic(weights)
        return self.traffic()

    def invoke(self, body: bytes, deployment: str | None = None) -> httpx.Response:
        url, key = self._address()
        return post(url, body, api_key=key, deployment=deployment)

    def send_rows(self, data: Path, deployment: str | None = None) -> tuple[int, float]:
        raise CreditopsError("--data sends a file to a local endpoint; on Azure ML use 'creditops azure batch-smoke'")

    def logs(self, lines: int, deployment: str | None = None) -> LogTail:
        """The end of `deployment`'s own log (the live deployment's when none is named)."""
        live = self.live()
        chosen = deployment or (live.name if live else None)
        if chosen is None:
            raise CreditopsError(f"endpoint {self.name} has no live deployment: name one with --deployment")
        text = self.ml.online_deployments.get_logs(name=chosen, endpoint_name=self.name, lines=lines)
        return LogTail(f"deployment {chosen} on Azure ML", str(text).splitlines())

    def follow(self, deployment: str | None, stop: Callable[[], bool]) -> Iterator[str]:
        raise CreditopsError(
            "--follow reads a local endpoint's log as it grows; Azure ML gives a deployment's log in one piece:"
            f" run 'creditops endpoint logs {self.name}' again"
        )

    def note(self, message: str) -> None:
        """Nothing: Azure ML's logs are the deployments' own, which creditops does not write to; the
        rollout's messages are printed by the command that runs it."""

    def show(self) -> EndpointView:
        """The endpoint as `endpoint show` prints it (Azure ML reports no health of its parts here)."""
        endpoint = self._endpoint()
        record = {
            "name": self.name,
            "target": "azureml",
            "scoring_uri": endpoint.scoring_uri,
            "traffic": dict(endpoint.traffic or {}),
            "mirror": dict(endpoint.mirror_traffic or {}),
            "deployments": {name: asdict(item) for name, item in self.deployments().items()},
            "history": self.history(),
            "rollout": (endpoint.tags or {}).get(PLAN_TAG),
        }
        return EndpointView(record)

    def credentials(self) -> str:
        raise CreditopsError(
            f"the keys of the Azure ML endpoint {self.name} stay in Azure:"
            f" 'az ml online-endpoint get-credentials --name {self.name}'"
        )

    def delete(self, keep_logs: bool = False) -> str:
        """Delete the endpoint and its deployments (Azure ML keeps no logs of a deleted endpoint)."""
        self.ml.online_endpoints.begin_delete(name=self.name).result()
        return f"Azure ML endpoint {self.name} deleted"


def _compare(url: str, key: str | None, body: bytes, live: str, mirror: str, requests: int) -> MirrorFigures:
    """The same request to the live and the mirror deployment, `requests` times: how far their answers are."""
    rows = disagreements = errors = 0
    deltas: list[float] = []
    latencies: list[float] = []
    for _ in range(requests):
        reference = post(url, body, api_key=key, deployment=live).json()["predictions"]
        started = time.perf_counter()
        answer = post(url, body, api_key=key, deployment=mirror)
        latencies.append(1000 * (time.perf_counter() - started))
        if answer.status_code != 200:
            errors += 1
            continue
        for theirs, ours in zip(reference, answer.json()["predictions"], strict=True):
            rows += 1
            disagreements += theirs["class"] != ours["class"]
            deltas.append(abs(theirs["probability"] - ours["probability"]))
    return MirrorFigures(
        requests=requests,
        errors=errors,
        rows=rows,
        disagreements=disagreements,
        mean_abs_delta=sum(deltas) / len(deltas) if deltas else 0.0,
        max_abs_delta=max(deltas, default=0.0),
        p99_ms=p99(latencies),
    )
