"""An in-memory stand-in for the MLClient operations creditops uses, with Azure ML's rules.

Its behaviour follows the azure-ai-ml docs: create/update/delete are long-running operations
(`.result()`); an endpoint's traffic sums to 100 (or is all 0); mirror traffic is at most 50 % and only
to a deployment without live traffic; a deployment with traffic cannot be deleted; a missing resource
raises `ResourceNotFoundError`. Every entity given to it is dumped with the SDK and loaded back through
the SDK's schema, as the service validates what it receives. Deployments really score: each one loads
its uploaded scoring script and model (as a container would), behind an HTTP front that routes by
traffic weights or the `azureml-model-deployment` header and checks the key.

Pipeline jobs really run: the data and config assets are snapshots taken when they are created (as an
upload is), and each step's component command runs (in this interpreter, or a process each), logging into
the workspace's MLflow store (`store_uri`: what Azure ML gives a job as MLFLOW_TRACKING_URI). Batch
invocations run the deployment's batch script over every file and write its predictions file.

With `persist=True` the workspace outlives the process, as a real one does: its state is saved as JSON
under `root` (`standin.json`) after every change and loaded on construction, so the separate processes of
a CI run's jobs share one workspace. A process starts its HTTP front when it first needs a scoring URI, and
a deployment's container when a request first reaches it. `from_environment` is the factory
`CREDITOPS_AZUREML_CLIENT` names for such processes.
"""

import copy
import functools
import importlib.util
import itertools
import json
import os
import random
import shutil
import sys
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, Final, TypeVar

import azure.ai.ml as ml
import pandas as pd
import yaml
from azure.ai.ml.entities import EndpointAuthKeys
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from creditops.azure.render import load_model_batch_deployment
from creditops.serving.protocol import DEPLOYMENT_HEADER, SAMPLE_REQUEST

from .pipeline_runner import IN_PROCESS, run_steps


class Poller:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value

    def done(self) -> bool:
        return True


def _roundtrip(entity: Any, loader: Any, ws: "StandInML") -> tuple[Any, Path]:
    """The entity as the service would receive it: dumped by the SDK, loaded back through its schema; and
    the file it was received as (what a persistent workspace loads it from again).
    (Assets write their YAML; endpoints and deployments return it as a dict.)"""
    folder = ws.root / "received"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ws.next_id()}.yml"
    dumped = entity.dump(path)
    if isinstance(dumped, dict):
        path.write_text(yaml.safe_dump(json.loads(json.dumps(dumped))))
    return loader(path), path


_COUNTER = itertools.count()
STATE: Final = "standin.json"
"""The file under a persistent workspace's root that holds its state."""
ROOT_VARIABLE: Final = "CREDITOPS_STANDIN_ROOT"
"""The folder of the persistent workspace `from_environment` opens."""
_ENV_LOCK = threading.Lock()


def _started(script: Path, variables: dict[str, str]) -> ModuleType:
    """A scoring script loaded by file path and initialised with the container's variables."""
    spec = importlib.util.spec_from_file_location(f"standin_script_{next(_COUNTER)}", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in variables}
        os.environ.update(variables)
        try:
            module.init()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key)
                else:
                    os.environ[key] = value
    return module


@dataclass
class Running:
    """One deployment's container: its scoring module, initialised."""

    module: ModuleType
    log: list[str] = field(default_factory=list)


class StandInML:
    """The MLClient operations creditops calls, on one workspace: in memory, or with `persist` saved under
    `root` after every change and loaded from there on construction (see the module docstring)."""

    def __init__(
        self, root: Path, store_uri: str | None = None, python: str = IN_PROCESS, *, persist: bool = False
    ) -> None:
        self.root = root
        self.store_uri = store_uri
        """The workspace's MLflow store, which pipeline jobs log and register into."""
        self.python = python
        """What runs a pipeline step's `python -m …` (see pipeline_runner; sys.executable for a process each)."""
        self.persist = persist
        self.issued = 0
        """The last id a persistent workspace gave a received file, upload or job (unique across processes)."""
        self.calls: list[str] = []
        self.endpoints: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.running: dict[tuple[str, str], Running] = {}
        self.containers: dict[tuple[str, str], tuple[Path, dict[str, str]]] = {}
        """(endpoint, deployment) → the scoring script and variables its container starts with."""
        self.model_files: dict[tuple[str, str], Path] = {}
        self.environment_specs: dict[str, Any] = {}
        self.batch: dict[str, Any] = {}
        self.batch_scripts: dict[tuple[str, str], Any] = {}
        self.batch_containers: dict[tuple[str, str], tuple[Path, dict[str, str]]] = {}
        """(batch endpoint, deployment) → the batch script and variables it starts with."""
        self.job_status: dict[str, str] = {}
        self.job_logs: dict[str, str] = {}
        self.job_outputs: dict[str, Path] = {}
        """Batch job name → the predictions file it wrote."""
        self.computes: dict[str, Any] = {}
        self.data_assets: dict[str, list[Path]] = {}
        """Data asset name → the snapshot folder of each version, oldest first."""
        self.batch_deployed: dict[tuple[str, str], Any] = {}
        """(batch endpoint, deployment) → the deployment as the service received it."""
        self.failing_batch: set[str] = set()
        """Batch deployment names whose jobs fail (a fault to inject)."""
        self.fail_init: set[str] = set()
        """Deployment names whose container fails to start (a fault to inject)."""
        self.failing: set[str] = set()
        """Deployment names whose container answers 500 (a fault to inject)."""
        self.received: dict[str, str] = {}
        """What a persistent workspace loads its entities from: `kind/name…` → the file received."""
        self.rng = random.Random(7)
        self.online_endpoints = _Endpoints(self)
        self.online_deployments = _Deployments(self)
        self.models = _Models(self)
        self.environments = _Environments(self)
        self.batch_endpoints = _BatchEndpoints(self)
        self.batch_deployments = _BatchDeployments(self)
        self.jobs = _Jobs(self)
        self.compute = _Compute(self)
        self.data = _Data(self)
        self.server: ThreadingHTTPServer | None = None
        self._server_lock = threading.Lock()
        if persist:
            _load(self)
        else:
            self._front()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self, endpoint: str) -> str:
        return f"http://127.0.0.1:{self._front().server_address[1]}/{endpoint}/score"

    def score(self, endpoint: str) -> dict[str, object]:
        """The sample request through the endpoint's front, with its key, as a client sends it."""
        request = urllib.request.Request(
            self.url(endpoint),
            data=SAMPLE_REQUEST.read_bytes(),
            headers={"authorization": f"Bearer {self.keys[endpoint]}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # nosec B310
            payload: dict[str, object] = json.loads(answer.read())
        return payload

    def _front(self) -> ThreadingHTTPServer:
        """The endpoints' HTTP front of this process, started on first use."""
        with self._server_lock:
            if self.server is None:
                self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
                threading.Thread(target=self.server.serve_forever, daemon=True).start()
            return self.server

    def next_id(self) -> int:
        if not self.persist:
            return next(_COUNTER)
        self.issued += 1
        return self.issued

    def container(self, endpoint: str, deployment: str) -> Running | None:
        """The deployment's running container; in a persistent workspace, started on first use."""
        key = (endpoint, deployment)
        if key not in self.running and key in self.containers and deployment in self.deployments.get(endpoint, {}):
            script, variables = self.containers[key]
            self.running[key] = Running(_started(script, variables), ["init() done"])
        return self.running.get((endpoint, deployment))

    def batch_script(self, endpoint: str, deployment: str) -> Any:
        """The batch deployment's initialised script; in a persistent workspace, started on first use."""
        if (endpoint, deployment) not in self.batch_scripts:
            script, variables = self.batch_containers[(endpoint, deployment)]
            self.batch_scripts[(endpoint, deployment)] = _started(script, variables)
        return self.batch_scripts[(endpoint, deployment)]

    def changed(self) -> None:
        """Save the state of a persistent workspace (atomically: a reader sees the old state or the new)."""
        if self.persist:
            _save(self)


_Operation = TypeVar("_Operation", bound=Callable[..., Any])


def _saves(operation: _Operation) -> _Operation:
    """An operation of the workspace's that changes it: saved after it, also when it raises."""

    @functools.wraps(operation)
    def saving(self: Any, *arguments: Any, **keywords: Any) -> Any:
        try:
            return operation(self, *arguments, **keywords)
        finally:
            self.ws.changed()

    return saving  # type: ignore[return-value]


def _pair(key: str) -> tuple[str, str]:
    first, _, second = key.partition("/")
    return first, second


def _save(ws: StandInML) -> None:
    state = {
        "store_uri": ws.store_uri,
        "python": ws.python,
        "issued": ws.issued,
        "calls": ws.calls,
        "received": ws.received,
        "endpoints": {
            name: {
                "traffic": dict(endpoint.traffic or {}),
                "mirror": dict(endpoint.mirror_traffic or {}),
                "tags": dict(endpoint.tags or {}),
            }
            for name, endpoint in ws.endpoints.items()
        },
        "keys": ws.keys,
        "deployments": {
            endpoint: {
                name: {"tags": dict(item.tags or {}), "state": item.provisioning_state}
                for name, item in deployments.items()
            }
            for endpoint, deployments in ws.deployments.items()
        },
        "containers": {f"{e}/{d}": [str(s), v] for (e, d), (s, v) in ws.containers.items()},
        "batch_containers": {f"{e}/{d}": [str(s), v] for (e, d), (s, v) in ws.batch_containers.items()},
        "batch": {name: _default_deployment(endpoint) for name, endpoint in ws.batch.items()},
        "batch_deployed": [f"{e}/{d}" for e, d in ws.batch_deployed],
        "models": [[name, version, str(path)] for (name, version), path in ws.model_files.items()],
        "environments": sorted(ws.environment_specs),
        "computes": sorted(ws.computes),
        "data_assets": {name: [str(path) for path in paths] for name, paths in ws.data_assets.items()},
        "jobs": sorted(ws.jobs.made),
        "job_status": ws.job_status,
        "job_logs": ws.job_logs,
        "job_outputs": {name: str(path) for name, path in ws.job_outputs.items()},
        "faults": {"failing_batch": sorted(ws.failing_batch), "fail_init": sorted(ws.fail_init)},
        "failing": sorted(ws.failing),
    }
    ws.root.mkdir(parents=True, exist_ok=True)
    partial = ws.root / f"{STATE}.partial"
    partial.write_text(json.dumps(state, indent=1))
    os.replace(partial, ws.root / STATE)


def _default_deployment(endpoint: Any) -> str | None:
    defaults = endpoint.defaults
    name = (
        defaults.get("deployment_name") if isinstance(defaults, Mapping) else getattr(defaults, "deployment_name", "")
    )
    return str(name) if name else None


def _load(ws: StandInML) -> None:
    """The state `_save` wrote, if any; the entities loaded again from the files they were received as."""
    path = ws.root / STATE
    if not path.is_file():
        return
    state = json.loads(path.read_text())
    ws.store_uri = ws.store_uri or state["store_uri"]
    ws.python, ws.issued, ws.calls = state["python"], state["issued"], state["calls"]
    ws.received = state["received"]

    def received(kind: str, name: str, loader: Any) -> Any:
        return loader(Path(ws.received[f"{kind}/{name}"]))

    for name, saved in state["endpoints"].items():
        endpoint = received("endpoint", name, ml.load_online_endpoint)
        endpoint.traffic, endpoint.mirror_traffic, endpoint.tags = saved["traffic"], saved["mirror"], saved["tags"]
        endpoint._provisioning_state = "Succeeded"
        ws.endpoints[name] = endpoint
    ws.keys = state["keys"]
    for endpoint_name, deployments in state["deployments"].items():
        ws.deployments[endpoint_name] = {}
        for name, saved in deployments.items():
            deployment = received("deployment", f"{endpoint_name}/{name}", ml.load_online_deployment)
            deployment.tags, deployment._provisioning_state = saved["tags"], saved["state"]
            ws.deployments[endpoint_name][name] = deployment
    ws.containers = {_pair(key): (Path(s), v) for key, (s, v) in state["containers"].items()}
    ws.batch_containers = {_pair(key): (Path(s), v) for key, (s, v) in state["batch_containers"].items()}
    for name, default in state["batch"].items():
        ws.batch[name] = received("batch", name, ml.load_batch_endpoint)
        ws.batch[name].defaults = {"deployment_name": default} if default else None
    for key in state["batch_deployed"]:
        ws.batch_deployed[_pair(key)] = received("batch-deployment", key, load_model_batch_deployment)
    ws.model_files = {(name, version): Path(folder) for name, version, folder in state["models"]}
    ws.environment_specs = {name: received("environment", name, ml.load_environment) for name in state["environments"]}
    ws.computes = {name: received("compute", name, ml.load_compute) for name in state["computes"]}
    ws.data_assets = {name: [Path(folder) for folder in paths] for name, paths in state["data_assets"].items()}
    for name in state["jobs"]:
        job = received("job", name, ml.load_job)
        job.name = name
        ws.jobs.made[name] = job
    ws.job_status, ws.job_logs = state["job_status"], state["job_logs"]
    ws.job_outputs = {name: Path(output) for name, output in state["job_outputs"].items()}
    ws.failing_batch, ws.fail_init = set(state["faults"]["failing_batch"]), set(state["faults"]["fail_init"])
    ws.failing = set(state["failing"])


_OPEN: dict[Path, StandInML] = {}


def from_environment(variables: Mapping[str, str]) -> StandInML:
    """The factory for `CREDITOPS_AZUREML_CLIENT=tests.azure.standin:from_environment`: the persistent
    workspace in the folder $CREDITOPS_STANDIN_ROOT names (one per process: every command of it changes the
    same workspace). `variables` are the workspace variables creditops passes; the stand-in needs none."""
    root = Path(os.environ[ROOT_VARIABLE])
    if root not in _OPEN:
        _OPEN[root] = StandInML(root, persist=True)
    return _OPEN[root]


class _Endpoints:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def get(self, name: str) -> Any:
        if name not in self.ws.endpoints:
            raise ResourceNotFoundError(f"online endpoint {name} not found")
        found = copy.deepcopy(self.ws.endpoints[name])
        found._scoring_uri = self.ws.url(name)  # this process's front (a persistent workspace's outlives it)
        return found

    def get_keys(self, name: str) -> EndpointAuthKeys:
        self.get(name)
        return EndpointAuthKeys(primary_key=self.ws.keys[name], secondary_key="second")

    @_saves
    def begin_create_or_update(self, endpoint: Any) -> Poller:
        ws = self.ws
        ws.calls.append(f"endpoint update {endpoint.name}")
        received, path = _roundtrip(endpoint, ml.load_online_endpoint, ws)
        deployments = ws.deployments.get(endpoint.name, {})
        traffic = {k: int(v) for k, v in (endpoint.traffic or {}).items()}
        mirror = {k: int(v) for k, v in (endpoint.mirror_traffic or {}).items()}
        unknown = sorted((set(traffic) | set(mirror)) - set(deployments))
        if unknown:
            raise HttpResponseError(f"traffic names deployments that do not exist: {unknown}")
        if sum(traffic.values()) not in (0, 100):
            raise HttpResponseError(f"traffic must sum to 100, not {sum(traffic.values())}")
        if any(pct > 50 for pct in mirror.values()):
            raise HttpResponseError("mirror traffic to a deployment is at most 50%")
        if any(traffic.get(dep, 0) > 0 for dep, pct in mirror.items() if pct > 0):
            raise HttpResponseError("a deployment cannot receive live and mirror traffic at once")
        received.traffic, received.mirror_traffic = traffic, mirror
        received.tags = dict(endpoint.tags or {})
        received._scoring_uri = ws.url(endpoint.name)  # read-only: the service fills it in
        received._provisioning_state = "Succeeded"
        ws.endpoints[endpoint.name] = received
        ws.received[f"endpoint/{endpoint.name}"] = str(path)
        ws.keys.setdefault(endpoint.name, f"key-{endpoint.name}-{ws.rng.getrandbits(64):x}")
        ws.deployments.setdefault(endpoint.name, {})
        return Poller(copy.deepcopy(received))

    @_saves
    def begin_delete(self, name: str) -> Poller:
        self.get(name)
        self.ws.calls.append(f"endpoint delete {name}")
        for deployment in list(self.ws.deployments.get(name, {})):
            self.ws.running.pop((name, deployment), None)
            self.ws.containers.pop((name, deployment), None)
        self.ws.deployments.pop(name, None)
        del self.ws.endpoints[name]
        return Poller()


class _Deployments:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def _of(self, endpoint_name: str) -> dict[str, Any]:
        if endpoint_name not in self.ws.endpoints:
            raise ResourceNotFoundError(f"online endpoint {endpoint_name} not found")
        return self.ws.deployments[endpoint_name]

    def list(self, endpoint_name: str) -> list[Any]:
        return [copy.deepcopy(item) for item in self._of(endpoint_name).values()]

    def get(self, name: str, endpoint_name: str) -> Any:
        found = self._of(endpoint_name)
        if name not in found:
            raise ResourceNotFoundError(f"deployment {name} not found")
        return copy.deepcopy(found[name])

    def get_logs(self, name: str, endpoint_name: str, lines: int) -> str:
        self.get(name, endpoint_name)
        running = self.ws.container(endpoint_name, name)
        return "\n".join(running.log[-lines:] if running else [])

    @_saves
    def begin_create_or_update(self, deployment: Any) -> Poller:
        ws = self.ws
        ws.calls.append(f"deployment update {deployment.endpoint_name}/{deployment.name}")
        found = self._of(deployment.endpoint_name)
        model_ref = str(deployment.model).removeprefix("azureml:")
        model_name, _, version = model_ref.partition(":")
        if (model_name, version) not in ws.model_files:
            raise HttpResponseError(f"model {model_ref} not found in the workspace")
        environment = str(deployment.environment).removeprefix("azureml:").split("@")[0]
        if environment not in ws.environment_specs:
            raise HttpResponseError(f"environment {environment} not found")
        upload = ws.root / "code" / f"{deployment.endpoint_name}-{deployment.name}-{ws.next_id()}"
        shutil.copytree(deployment.code_configuration.code, upload)
        received, path = _roundtrip(deployment, ml.load_online_deployment, ws)
        received.tags = dict(deployment.tags or {})
        found[deployment.name] = received
        ws.received[f"deployment/{deployment.endpoint_name}/{deployment.name}"] = str(path)
        log = [f"pulling {environment}", f"model {model_ref} mounted"]
        if deployment.name in ws.fail_init:
            received._provisioning_state = "Failed"
            raise HttpResponseError(f"deployment {deployment.name}: container crashed in init()")
        script = upload / deployment.code_configuration.scoring_script
        model_dir = str(ws.model_files[(model_name, version)])
        variables = {**(deployment.environment_variables or {}), "AZUREML_MODEL_DIR": model_dir}
        module = _started(script, variables)
        ws.running[(deployment.endpoint_name, deployment.name)] = Running(module, [*log, "init() done"])
        ws.containers[(deployment.endpoint_name, deployment.name)] = (script, variables)
        received._provisioning_state = "Succeeded"
        return Poller(copy.deepcopy(received))

    @_saves
    def begin_delete(self, name: str, endpoint_name: str) -> Poller:
        self.get(name, endpoint_name)
        endpoint = self.ws.endpoints[endpoint_name]
        if (endpoint.traffic or {}).get(name, 0) > 0 or (endpoint.mirror_traffic or {}).get(name, 0) > 0:
            raise HttpResponseError(f"deployment {name} has traffic: set it to 0 before deleting it")
        self.ws.calls.append(f"deployment delete {endpoint_name}/{name}")
        del self.ws.deployments[endpoint_name][name]
        endpoint.traffic = {dep: pct for dep, pct in (endpoint.traffic or {}).items() if dep != name}
        endpoint.mirror_traffic = {dep: pct for dep, pct in (endpoint.mirror_traffic or {}).items() if dep != name}
        self.ws.running.pop((endpoint_name, name), None)
        self.ws.containers.pop((endpoint_name, name), None)
        return Poller()


class _Models:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def get(self, name: str, version: str) -> Any:
        if (name, version) not in self.ws.model_files:
            raise ResourceNotFoundError(f"model {name}:{version} not found")
        entity = ml.entities.Model(name=name, version=version, path=str(self.ws.model_files[(name, version)]))
        entity.tags = json.loads((self.ws.model_files[(name, version)] / ".tags.json").read_text())
        return entity

    @_saves
    def create_or_update(self, model: Any) -> Any:
        _roundtrip(model, ml.load_model, self.ws)
        stored = self.ws.root / "models" / model.name / str(model.version)
        shutil.copytree(model.path, stored / Path(model.path).name)
        (stored / ".tags.json").write_text(json.dumps(dict(model.tags or {})))
        self.ws.model_files[(model.name, str(model.version))] = stored
        self.ws.calls.append(f"model create {model.name}:{model.version}")
        return model


class _Environments:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    @_saves
    def create_or_update(self, environment: Any) -> Any:
        _, path = _roundtrip(environment, ml.load_environment, self.ws)
        self.ws.environment_specs[environment.name] = environment
        self.ws.received[f"environment/{environment.name}"] = str(path)
        return environment


class _BatchEndpoints:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    @_saves
    def begin_create_or_update(self, endpoint: Any) -> Poller:
        self.ws.batch[endpoint.name], path = _roundtrip(endpoint, ml.load_batch_endpoint, self.ws)
        self.ws.batch[endpoint.name].defaults = endpoint.defaults
        self.ws.received[f"batch/{endpoint.name}"] = str(path)
        return Poller(endpoint)

    def get(self, name: str) -> Any:
        if name not in self.ws.batch:
            raise ResourceNotFoundError(f"batch endpoint {name} not found")
        return self.ws.batch[name]

    @_saves
    def invoke(self, endpoint_name: str, deployment_name: str, inputs: dict[str, Any]) -> Any:
        """Run the deployment's batch script over every file of the input folder, one file per mini-batch,
        appending its rows to the deployment's output file (`output_action: append_row`)."""
        ws = self.ws
        deployment = ws.batch_script(endpoint_name, deployment_name)
        settings = ws.batch_deployed[(endpoint_name, deployment_name)].settings
        name = f"batch-{ws.next_id()}"
        ws.calls.append(f"batch invoke {endpoint_name}/{deployment_name}")
        try:
            if deployment_name in ws.failing_batch:
                raise RuntimeError(f"deployment {deployment_name}: scoring failed")
            files = sorted(str(path) for path in Path(inputs["input"].path).iterdir())
            outputs = [deployment.run([file]) for file in files]
            output = ws.root / "jobs" / name / settings.output_file_name
            output.parent.mkdir(parents=True)
            pd.concat(outputs, ignore_index=True).to_csv(output, index=False)
            ws.job_outputs[name] = output
            ws.job_status[name] = "Completed" if all(len(out) for out in outputs) else "Failed"
        except Exception as error:  # a failing scoring script fails the job, as on Azure ML
            ws.job_logs[name] = repr(error)
            ws.job_status[name] = "Failed"
        return ml.entities.BatchJob(name=name)


class _BatchDeployments:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    @_saves
    def begin_create_or_update(self, deployment: Any) -> Poller:
        ws = self.ws
        if deployment.endpoint_name not in ws.batch:
            raise ResourceNotFoundError(f"batch endpoint {deployment.endpoint_name} not found")
        received, path = _roundtrip(deployment, load_model_batch_deployment, ws)
        model_name, _, version = str(received.model).removeprefix("azureml:").partition(":")
        if (model_name, version) not in ws.model_files:
            raise HttpResponseError(f"model {model_name}:{version} not found in the workspace")
        environment = str(received.environment).removeprefix("azureml:").split("@")[0]
        if environment not in ws.environment_specs:
            raise HttpResponseError(f"environment {environment} not found")
        if str(received.compute).removeprefix("azureml:") not in ws.computes:
            raise HttpResponseError(f"compute {received.compute} not found")
        upload = ws.root / "code" / f"{deployment.endpoint_name}-{deployment.name}-{ws.next_id()}"
        shutil.copytree(deployment.code_configuration.code, upload)
        script = upload / deployment.code_configuration.scoring_script
        model_dir = str(ws.model_files[(model_name, version)])
        variables = {**(received.settings.environment_variables or {}), "AZUREML_MODEL_DIR": model_dir}
        module = _started(script, variables)
        key = (deployment.endpoint_name, deployment.name)
        ws.batch_scripts[key], ws.batch_containers[key], ws.batch_deployed[key] = module, (script, variables), received
        ws.received[f"batch-deployment/{deployment.endpoint_name}/{deployment.name}"] = str(path)
        ws.calls.append(f"batch deployment update {deployment.endpoint_name}/{deployment.name} {model_name}:{version}")
        return Poller(received)


class _Compute:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    @_saves
    def begin_create_or_update(self, compute: Any) -> Poller:
        self.ws.computes[compute.name], path = _roundtrip(compute, ml.load_compute, self.ws)
        self.ws.received[f"compute/{compute.name}"] = str(path)
        return Poller(compute)


class _Data:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    @_saves
    def create_or_update(self, data: Any) -> Any:
        """A new version of the asset: its local folder uploaded (copied) now."""
        received, _ = _roundtrip(data, ml.load_data, self.ws)
        versions = self.ws.data_assets.setdefault(data.name, [])
        snapshot = self.ws.root / "data" / data.name / str(len(versions) + 1)
        shutil.copytree(Path(received.path), snapshot)
        versions.append(snapshot)
        self.ws.calls.append(f"data create {data.name}:{len(versions)}")
        return received

    def resolve(self, reference: str) -> Path:
        """`azureml:NAME@latest` or `azureml:NAME:VERSION` as the folder a job mounts."""
        name, _, version = reference.removeprefix("azureml:").replace("@latest", "").partition(":")
        if name not in self.ws.data_assets:
            raise HttpResponseError(f"data asset {name} not found")
        return self.ws.data_assets[name][int(version) - 1 if version else -1]


class _Jobs:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws
        self.made: dict[str, Any] = {}

    @_saves
    def create_or_update(self, job: Any) -> Any:
        """Run a pipeline job's steps as the service would: its inputs resolved to the data assets' snapshots,
        each step's component command in its code folder, logging into the workspace's MLflow store."""
        ws = self.ws
        received, path = _roundtrip(job, ml.load_job, ws)
        name = f"pipeline-{ws.next_id()}"
        ws.received[f"job/{name}"] = str(path)
        received.name = name
        ws.calls.append(f"job create {name}")
        spec = received._to_dict()  # components inlined, code paths resolved: what the service runs
        for node in spec["jobs"].values():
            component = node["component"]
            environment = str(component["environment"]).removeprefix("azureml:").split("@")[0]
            if environment not in ws.environment_specs:
                raise HttpResponseError(f"environment {environment} not found")
            if str(node["compute"]).removeprefix("azureml:") not in ws.computes:
                raise HttpResponseError(f"compute {node['compute']} not found")
        inputs = {key: ws.data.resolve(value["path"]) for key, value in spec["inputs"].items()}
        if ws.store_uri is None:
            raise HttpResponseError("this stand-in workspace has no MLflow store for jobs (store_uri)")
        scratch = ws.root / "jobs" / name
        environ = {
            "PATH": os.environ["PATH"],
            "HOME": str(scratch),
            "MLFLOW_TRACKING_URI": ws.store_uri,
            "CREDITOPS_WORKSPACE": str(scratch / "workspace"),  # not the code folder (a shared checkout here)
        }
        steps = run_steps(spec, inputs, scratch / "outputs", ws.python, environ)
        ws.job_logs[name] = "\n".join(f"{step.name}: {step.returncode}\n{step.stdout}{step.stderr}" for step in steps)
        completed = len(steps) == len(spec["jobs"]) and all(step.returncode == 0 for step in steps)
        ws.job_status[name] = "Completed" if completed else "Failed"
        if not completed:
            print(f"pipeline job {name} failed:\n{ws.job_logs[name][-3000:]}", file=sys.stderr)
        self.made[name] = received
        return received

    def stream(self, name: str) -> None:
        self.get(name)

    def get(self, name: str) -> Any:
        if name not in self.ws.job_status:
            raise ResourceNotFoundError(f"job {name} not found")
        if name not in self.made:
            job = ml.entities.BatchJob(name=name)
            job.status = self.ws.job_status[name]
            return job
        job = copy.copy(self.made[name])
        job._status = self.ws.job_status[name]  # read-only: the service fills it in
        return job


def _handler(ws: StandInML) -> type[BaseHTTPRequestHandler]:
    class Front(BaseHTTPRequestHandler):
        """The endpoint's front: key check, routing by header or traffic weight, mirror copies."""

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            endpoint_name = self.path.strip("/").split("/")[0]
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            endpoint = ws.endpoints.get(endpoint_name)
            if endpoint is None:
                return self._reply(404, b'{"error": "no such endpoint"}', None)
            if self.headers.get("authorization") != f"Bearer {ws.keys[endpoint_name]}":
                return self._reply(401, b'{"error": "key"}', None)
            chosen = self.headers.get(DEPLOYMENT_HEADER)
            traffic = {k: v for k, v in (endpoint.traffic or {}).items() if v > 0}
            if chosen is None and traffic:
                chosen = ws.rng.choices(list(traffic), weights=list(traffic.values()))[0]
            running = ws.container(endpoint_name, chosen or "")
            if running is None:
                return self._reply(404 if chosen else 503, b'{"error": "no deployment to route to"}', chosen)
            if chosen in ws.failing:
                return self._reply(500, b'{"error": "scoring failed"}', chosen)
            for mirrored, percent in (endpoint.mirror_traffic or {}).items():
                shadow = ws.container(endpoint_name, mirrored) if ws.rng.random() * 100 < percent else None
                if shadow is not None:
                    shadow.module.run(body.decode())
            status, answer = running.module.run(body.decode())
            self._reply(status, answer, chosen)

        def _reply(self, status: int, body: bytes, deployment: str | None) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            if deployment:
                self.send_header(DEPLOYMENT_HEADER, deployment)
            self.end_headers()
            self.wfile.write(body)

    return Front
