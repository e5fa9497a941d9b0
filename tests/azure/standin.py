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
"""

import copy
import importlib.util
import itertools
import json
import os
import random
import shutil
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.ai.ml as ml
import pandas as pd
import yaml
from azure.ai.ml.entities import EndpointAuthKeys
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from creditops.azure.render import load_model_batch_deployment
from creditops.serving.protocol import DEPLOYMENT_HEADER

from .pipeline_runner import IN_PROCESS, run_steps


class Poller:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value

    def done(self) -> bool:
        return True


def _roundtrip(entity: Any, loader: Any, folder: Path) -> Any:
    """The entity as the service would receive it: dumped by the SDK, loaded back through its schema.
    (Assets write their YAML; endpoints and deployments return it as a dict.)"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{next(_COUNTER)}.yml"
    dumped = entity.dump(path)
    if isinstance(dumped, dict):
        path.write_text(yaml.safe_dump(json.loads(json.dumps(dumped))))
    return loader(path)


_COUNTER = itertools.count()
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
    """The MLClient operations creditops calls, on one in-memory workspace."""

    def __init__(self, root: Path, store_uri: str | None = None, python: str = IN_PROCESS) -> None:
        self.root = root
        self.store_uri = store_uri
        """The workspace's MLflow store, which pipeline jobs log and register into."""
        self.python = python
        """What runs a pipeline step's `python -m …` (see pipeline_runner; sys.executable for a process each)."""
        self.calls: list[str] = []
        self.endpoints: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.running: dict[tuple[str, str], Running] = {}
        self.model_files: dict[tuple[str, str], Path] = {}
        self.environment_specs: dict[str, Any] = {}
        self.batch: dict[str, Any] = {}
        self.batch_scripts: dict[tuple[str, str], Any] = {}
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
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, endpoint: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{endpoint}/score"


class _Endpoints:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def get(self, name: str) -> Any:
        if name not in self.ws.endpoints:
            raise ResourceNotFoundError(f"online endpoint {name} not found")
        return copy.deepcopy(self.ws.endpoints[name])

    def get_keys(self, name: str) -> EndpointAuthKeys:
        self.get(name)
        return EndpointAuthKeys(primary_key=self.ws.keys[name], secondary_key="second")

    def begin_create_or_update(self, endpoint: Any) -> Poller:
        ws = self.ws
        ws.calls.append(f"endpoint update {endpoint.name}")
        received = _roundtrip(endpoint, ml.load_online_endpoint, ws.root / "received")
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
        ws.keys.setdefault(endpoint.name, f"key-{endpoint.name}-{ws.rng.getrandbits(64):x}")
        ws.deployments.setdefault(endpoint.name, {})
        return Poller(copy.deepcopy(received))

    def begin_delete(self, name: str) -> Poller:
        self.get(name)
        self.ws.calls.append(f"endpoint delete {name}")
        for deployment in list(self.ws.deployments.get(name, {})):
            self.ws.running.pop((name, deployment), None)
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
        return "\n".join(self.ws.running[(endpoint_name, name)].log[-lines:])

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
        upload = ws.root / "code" / f"{deployment.endpoint_name}-{deployment.name}-{next(_COUNTER)}"
        shutil.copytree(deployment.code_configuration.code, upload)
        received = _roundtrip(deployment, ml.load_online_deployment, ws.root / "received")
        received.tags = dict(deployment.tags or {})
        found[deployment.name] = received
        log = [f"pulling {environment}", f"model {model_ref} mounted"]
        if deployment.name in ws.fail_init:
            received._provisioning_state = "Failed"
            raise HttpResponseError(f"deployment {deployment.name}: container crashed in init()")
        script = upload / deployment.code_configuration.scoring_script
        model_dir = str(ws.model_files[(model_name, version)])
        module = _started(script, {**(deployment.environment_variables or {}), "AZUREML_MODEL_DIR": model_dir})
        ws.running[(deployment.endpoint_name, deployment.name)] = Running(module, [*log, "init() done"])
        received._provisioning_state = "Succeeded"
        return Poller(copy.deepcopy(received))

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

    def create_or_update(self, model: Any) -> Any:
        _roundtrip(model, ml.load_model, self.ws.root / "received")
        stored = self.ws.root / "models" / model.name / str(model.version)
        shutil.copytree(model.path, stored / Path(model.path).name)
        (stored / ".tags.json").write_text(json.dumps(dict(model.tags or {})))
        self.ws.model_files[(model.name, str(model.version))] = stored
        self.ws.calls.append(f"model create {model.name}:{model.version}")
        return model


class _Environments:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def create_or_update(self, environment: Any) -> Any:
        _roundtrip(environment, ml.load_environment, self.ws.root / "received")
        self.ws.environment_specs[environment.name] = environment
        return environment


class _BatchEndpoints:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def begin_create_or_update(self, endpoint: Any) -> Poller:
        self.ws.batch[endpoint.name] = _roundtrip(endpoint, ml.load_batch_endpoint, self.ws.root / "received")
        self.ws.batch[endpoint.name].defaults = endpoint.defaults
        return Poller(endpoint)

    def get(self, name: str) -> Any:
        if name not in self.ws.batch:
            raise ResourceNotFoundError(f"batch endpoint {name} not found")
        return self.ws.batch[name]

    def invoke(self, endpoint_name: str, deployment_name: str, inputs: dict[str, Any]) -> Any:
        """Run the deployment's batch script over every file of the input folder, one file per mini-batch,
        appending its rows to the deployment's output file (`output_action: append_row`)."""
        ws = self.ws
        deployment = ws.batch_scripts[(endpoint_name, deployment_name)]
        settings = ws.batch_deployed[(endpoint_name, deployment_name)].settings
        name = f"batch-{next(_COUNTER)}"
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

    def begin_create_or_update(self, deployment: Any) -> Poller:
        ws = self.ws
        if deployment.endpoint_name not in ws.batch:
            raise ResourceNotFoundError(f"batch endpoint {deployment.endpoint_name} not found")
        received = _roundtrip(deployment, load_model_batch_deployment, ws.root / "received")
        model_name, _, version = str(received.model).removeprefix("azureml:").partition(":")
        if (model_name, version) not in ws.model_files:
            raise HttpResponseError(f"model {model_name}:{version} not found in the workspace")
        environment = str(received.environment).removeprefix("azureml:").split("@")[0]
        if environment not in ws.environment_specs:
            raise HttpResponseError(f"environment {environment} not found")
        if str(received.compute).removeprefix("azureml:") not in ws.computes:
            raise HttpResponseError(f"compute {received.compute} not found")
        upload = ws.root / "code" / f"{deployment.endpoint_name}-{deployment.name}-{next(_COUNTER)}"
        shutil.copytree(deployment.code_configuration.code, upload)
        script = upload / deployment.code_configuration.scoring_script
        model_dir = str(ws.model_files[(model_name, version)])
        variables = dict(received.settings.environment_variables or {})
        module = _started(script, {**variables, "AZUREML_MODEL_DIR": model_dir})
        ws.batch_scripts[(deployment.endpoint_name, deployment.name)] = module
        ws.batch_deployed[(deployment.endpoint_name, deployment.name)] = received
        ws.calls.append(f"batch deployment update {deployment.endpoint_name}/{deployment.name} {model_name}:{version}")
        return Poller(received)


class _Compute:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def begin_create_or_update(self, compute: Any) -> Poller:
        self.ws.computes[compute.name] = _roundtrip(compute, ml.load_compute, self.ws.root / "received")
        return Poller(compute)


class _Data:
    def __init__(self, ws: StandInML) -> None:
        self.ws = ws

    def create_or_update(self, data: Any) -> Any:
        """A new version of the asset: its local folder uploaded (copied) now."""
        received = _roundtrip(data, ml.load_data, self.ws.root / "received")
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

    def create_or_update(self, job: Any) -> Any:
        """Run a pipeline job's steps as the service would: its inputs resolved to the data assets' snapshots,
        each step's component command in its code folder, logging into the workspace's MLflow store."""
        ws = self.ws
        received = _roundtrip(job, ml.load_job, ws.root / "received")
        name = f"pipeline-{next(_COUNTER)}"
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
            running = ws.running.get((endpoint_name, chosen or ""))
            if running is None:
                return self._reply(404 if chosen else 503, b'{"error": "no deployment to route to"}', chosen)
            if chosen in ws.failing:
                return self._reply(500, b'{"error": "scoring failed"}', chosen)
            for mirrored, percent in (endpoint.mirror_traffic or {}).items():
                if ws.rng.random() * 100 < percent and (endpoint_name, mirrored) in ws.running:
                    ws.running[(endpoint_name, mirrored)].module.run(body.decode())
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
