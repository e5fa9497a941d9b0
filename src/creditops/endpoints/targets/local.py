"""The local target: endpoints and deployments on this machine, as `az ml online-endpoint` /
`online-deployment` manage them.

An endpoint is one front-door process on one port (a supervisor and its forked workers, started
detached, with its logs and state in the workspace). Every worker holds every deployment's model, from
the endpoint's own copy of the model files. A change (deploy, traffic, mirror) is written to the
state; it is done when every worker reports it serves that state. Changes to one endpoint are made one
at a time: a second command is refused with one line naming the running one.
"""

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from creditops import processes
from creditops.context import Context
from creditops.endpoints import figures, rows, state
from creditops.endpoints.decisions import MirrorFigures, StepFigures, checked_weights
from creditops.endpoints.smoke import MAX_ROUNDS, SmokeReport, post, probe_share, smoke_test
from creditops.endpoints.state import Deployment, Endpoint, HistoryEntry, RolloutPlan
from creditops.endpoints.targets import local_process
from creditops.endpoints.targets.base import Admit, EndpointView, Health, LogTail
from creditops.errors import CreditopsError
from creditops.files import atomic_path, claimed_lock
from creditops.interruption import Interrupted, cooperative
from creditops.say import Say
from creditops.tracking import names


@dataclass
class LocalTarget:
    """Endpoint `name` of the context's workspace; `workers` (when set) for the deployments it starts;
    `admit` (when set) says which models may get traffic again when a stopped endpoint starts."""

    context: Context
    name: str
    workers: int | None = None
    admit: Admit | None = None

    @property
    def _root(self) -> Path:
        return self.context.endpoints_dir

    def _endpoint(self) -> Endpoint:
        try:
            return state.load(self._root, self.name)
        except state.NoEndpointError as missing:
            raise self._elsewhere(missing) from None

    def _elsewhere(self, missing: state.NoEndpointError) -> CreditopsError:
        """The refusal of a missing endpoint: where its name is another environment's endpoint (its file's
        endpoint.name), the --env that reaches it rather than a 'create' here."""
        from creditops.config.environments import endpoint_environment

        owner = endpoint_environment(self.name)
        here = self.context.environment.name if self.context.environment is not None else None
        if owner is None or owner == here:
            return missing
        where = f"the {here} environment" if here else "the local workspace"
        return CreditopsError(
            f"no endpoint named {self.name!r} in {where}: it is the {owner} environment's endpoint"
            f" (config/environments/{owner}.yaml); add --env {owner}"
        )

    # what people run by hand

    def create(self, port: int | None = None, auth: str = "key", workers: int = 1) -> str:
        """Create the endpoint and start its front door; where it listens."""
        if auth not in ("key", "none"):
            raise CreditopsError(f"unknown auth {auth!r}: use key or none")
        try:
            endpoint = self._create(port, auth, workers)
        finally:
            folder = state.folder(self._root, self.name)
            if not (folder / state.STATE_FILE).is_file():
                shutil.rmtree(folder, ignore_errors=True)
        return f"endpoint {self.name} listening on {endpoint.url} (auth: {auth})"

    def _create(self, port: int | None, auth: str, workers: int) -> Endpoint:
        with self.changing("create"):
            if state.exists(self._root, self.name):
                raise CreditopsError(
                    f"endpoint {self.name!r} exists already: see 'creditops endpoint show {self.name}'"
                )
            port = port or processes.free_port()
            if processes.port_in_use(port):
                raise CreditopsError(f"port {port} is in use: choose another --port")
            endpoint = Endpoint(name=self.name, port=port, auth=auth, workers=workers)
            if auth == "key":
                state.new_key(self._root, self.name)
            try:
                state.save(self._root, endpoint)
                local_process.start_front_door(self.context, endpoint)
            except BaseException:
                processes.stop(endpoint.pid)
                local_process.remove_folder_but_lock(state.folder(self._root, self.name))
                raise
        return endpoint

    def start(self, say: Say = print) -> str:
        """Bring an endpoint back after a restart: same address, deployments and weights. With `admit`, a
        deployment whose model it refuses (withdrawn or unapproved since the endpoint stopped) starts with
        no traffic, so it never serves again unseen; its share goes to no one."""
        with self.changing("start"):
            endpoint = self._endpoint()
            if not processes.alive(endpoint.pid):
                for deployment in endpoint.deployments.values():
                    admit = self.admit
                    refused = admit(deployment.model_uri) if admit and endpoint.traffic.get(deployment.name) else None
                    if refused is not None:
                        endpoint.traffic[deployment.name] = 0
                        say(f"{deployment.name} starts with no traffic: {refused}")
                local_process.start_front_door(self.context, endpoint)
            endpoint = self._endpoint()
        weights = ", ".join(f"{dep}={pct}%" for dep, pct in endpoint.traffic.items())
        return f"endpoint {self.name} on {endpoint.url}: {weights}"

    def deploy_by_hand(self, deployment: str, model_uri: str) -> Deployment:
        """Start (or replace) a deployment serving `model_uri`; its traffic weight is kept (0 if new)."""
        with self.changing(f"deploy of {deployment}"):
            return self.deploy(deployment, model_uri)

    def set_traffic_by_hand(self, weights: dict[str, int]) -> dict[str, int]:
        """Set the traffic weights (percent, summing to 100); deployments left out get 0. Ctrl-C or SIGTERM
        before every worker serves them puts the previous weights back."""
        with self.changing("traffic change"), cooperative():
            before = self._endpoint().traffic
            try:
                return self._set_traffic(weights).traffic
            except Interrupted as stop:
                endpoint = self._endpoint()
                endpoint.traffic = before
                local_process.apply(self.context, endpoint)
                restored = state.describe_weights(before)
                raise CreditopsError(
                    f"traffic change on {self.name} interrupted ({stop}): traffic restored to {restored}"
                ) from None

    def remove(self, deployment: str) -> None:
        """Forget a deployment that has no traffic."""
        with self.changing(f"removal of {deployment}"):
            self._remove(deployment)

    def deployments(self) -> dict[str, Deployment]:
        return dict(self._endpoint().deployments)

    def invoke(self, body: bytes, deployment: str | None = None) -> httpx.Response:
        endpoint = self._endpoint()
        return post(endpoint.url, body, api_key=state.read_key(self._root, self.name), deployment=deployment)

    def send_rows(self, data: Path, deployment: str | None = None) -> tuple[int, float]:
        """Score every row of a data file through the endpoint (`endpoints.rows`); the count and mean."""
        return rows.send_rows(self.context.modelling.contract(), data, lambda body: self.invoke(body, deployment))

    def health(self) -> tuple[Endpoint, list[Health]]:
        """The endpoint and the health of its front door and each deployment in every worker."""
        endpoint = self._endpoint()
        running = processes.alive(endpoint.pid)
        supervision = local_process.supervision(self.context, self.name) if running else {}
        workers = supervision.get("workers", [])
        detail = f"pid {endpoint.pid}, {len(workers)} of {endpoint.workers} worker(s)"
        if supervision.get("restarts"):
            detail += f", {supervision['restarts']} restart(s), last: {supervision.get('last_exit')}"
        if not running:
            detail = f"not running: start it with 'creditops endpoint start {self.name}'"
        report = [Health("front door", running and bool(workers), detail)]
        if endpoint.rollout is not None:
            plan = endpoint.rollout
            alive = processes.alive(plan.pid)
            what = "running" if alive else f"unfinished (run 'creditops endpoint recover {self.name}')"
            report.append(Health("rollout", alive, f"{what}: {plan.model_uri} as {plan.deployment}, at '{plan.step}'"))
        reports = local_process.worker_reports(self.context, self.name, workers)
        for deployment in endpoint.deployments.values():
            failures = [report["failed"][deployment.name] for report in reports if deployment.name in report["failed"]]
            ok = running and not failures
            text = f"model version {deployment.model_version}" + (f"; {failures[0]}" if failures else "")
            if endpoint.mirror.get(deployment.name):
                text += f"; mirror of {endpoint.mirror[deployment.name]}% of live requests"
            report.append(Health(deployment.name, ok, text))
        return endpoint, report

    def show(self) -> EndpointView:
        endpoint, report = self.health()
        record = {**asdict(endpoint), "url": endpoint.url, "health": [asdict(item) for item in report]}
        return EndpointView(record, tuple(report), endpoint)

    def logs(self, lines: int = 50, deployment: str | None = None) -> LogTail:
        """The last `lines` lines of the endpoint's log (its supervisor, workers and every deployment in
        them), or of those that name `deployment`."""
        path = self._log(deployment)
        if not path.is_file():
            return LogTail(str(path), [])
        window = 256 * lines * (20 if deployment else 1) + 4096
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - window))
            text = log.read().decode("utf-8", errors="replace")
        found = [line for line in text.splitlines() if deployment is None or deployment in line]
        return LogTail(str(path), found[-lines:])

    def follow(
        self, deployment: str | None = None, stop: Callable[[], bool] = lambda: False, poll: float = 0.2
    ) -> Iterator[str]:
        """The lines added to the endpoint's log from now on (those naming `deployment`, when given), as
        they come, read every `poll` seconds until `stop()` is true."""
        path = self._log(deployment)
        start = path.stat().st_size if path.is_file() else 0  # now, not at the first next()
        return _appended(path, start, deployment, stop, poll)

    def note(self, message: str) -> None:
        """Append `message`, stamped, to the log the front door and its workers write (`logs` reads it)."""
        stamp = datetime.now(tz=UTC).isoformat(timespec="seconds")
        try:
            with (state.logs(self._root, self.name) / state.LOG_FILE).open("a", encoding="utf-8") as log:
                log.write(f"{stamp} {message}\n")  # one append: whole beside the workers' own lines
        except OSError:  # a log that cannot be written never stops a rollout; its messages are said too
            return

    def _log(self, deployment: str | None) -> Path:
        """The endpoint's log file, once `deployment` (when named) is known to be one of its deployments."""
        endpoint = self._endpoint()
        if deployment is not None and deployment not in endpoint.deployments:
            known = ", ".join(endpoint.deployments) or "none"
            raise CreditopsError(f"no deployment named {deployment} on endpoint {self.name} (its deployments: {known})")
        return state.logs(self._root, self.name) / state.LOG_FILE

    def credentials(self) -> str:
        self._endpoint()
        key = state.read_key(self._root, self.name)
        if key is None:
            raise CreditopsError(f"endpoint {self.name} uses no key (auth none)")
        return key

    def delete(self, keep_logs: bool = False) -> str:
        """Stop every process of the endpoint, free its port and forget it; its logs too, unless `keep_logs`.

        The state is read leniently, and no unfinished rollout is undone first: the endpoint goes whole, so
        `delete` is the way out of any state file, even one that is not valid."""
        root, name = self._root, self.name
        folder = state.folder(root, name)
        if not (folder / state.STATE_FILE).is_file():
            self._endpoint()  # the one-line "no endpoint named …"
        with claimed_lock(folder / "lock", local_process.holder(name, "delete")):
            for pid in state.recorded_pids(root, name):
                processes.stop(pid, marker=str(folder / state.STATE_FILE).encode())
            port = state.recorded_port(root, name)
            deadline = time.monotonic() + 5
            while port is not None and processes.port_in_use(port) and time.monotonic() < deadline:
                time.sleep(0.05)
            for path in folder.iterdir():
                if (keep_logs and path.name in state.LOG_FOLDERS) or path.name == "lock":
                    continue
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        if not keep_logs:
            shutil.rmtree(folder, ignore_errors=True)
            return f"endpoint {name} deleted"
        (folder / "lock").unlink(missing_ok=True)
        return f"endpoint {name} deleted; logs kept in {root / name}"

    def recover(self) -> str:
        """Undo a rollout whose process was killed; what was done."""
        done: list[str] = []
        with self.changing("recover", say=done.append):
            pass
        return done[0] if done else f"endpoint {self.name} has no unfinished rollout: nothing to recover"

    # what a release or a rollout needs

    def exists(self) -> bool:
        return state.exists(self._root, self.name)

    def ensure(self, port: int | None = None) -> None:
        """Started again if it exists, else created on `port`, else on the environment's port, else on a
        free one (recorded in the endpoint state)."""
        if self.exists():
            self.start()
            return
        settings = self.context.env.endpoint
        chosen = port or settings.port
        if chosen is not None and processes.port_in_use(chosen):
            holder = local_process.port_holder(self.context, chosen)
            held = f" by {holder}" if holder else ""
            raise CreditopsError(
                f"port {chosen} for endpoint {self.name} is in use{held}: pass --port with a free one, or set"
                f" endpoint.port to null in config/environments/{self.context.env.name}.yaml for a free port"
            )
        self.create(chosen, settings.auth, settings.workers)

    def describe(self) -> str:
        return f"the local endpoint {self.name} at {self._endpoint().url} (this machine)"

    @contextmanager
    def changing(self, what: str, say: Say = print) -> Iterator[None]:
        """Hold the endpoint's change lock for `what`; first undo any rollout a killed process left unfinished."""
        folder = state.folder(self._root, self.name)
        if not (folder / state.STATE_FILE).is_file() and what != "create":
            self._endpoint()  # the one-line "no endpoint named …"
        with claimed_lock(folder / "lock", local_process.holder(self.name, what)):
            if what != "create":
                restored = self._recover_held()
                if restored:
                    say(restored)
            yield

    def _recover_held(self) -> str | None:
        """With the lock held, a rollout plan left in the state belongs to a process that is gone: undo it."""
        plan = self._endpoint().rollout
        if plan is None:
            return None
        self.restore(plan)
        undone = (
            f"an unfinished rollout of {plan.model_uri} (pid {plan.pid}, at '{plan.step}', started {plan.started_at})"
            f" was undone: traffic restored to {plan.weights_before()}"
        )
        self.note(undone)
        return undone

    def live(self) -> Deployment | None:
        return self._endpoint().live()

    def traffic(self) -> dict[str, int]:
        return dict(self._endpoint().traffic)

    def record_plan(self, plan: RolloutPlan | None) -> None:
        endpoint = self._endpoint()
        endpoint.rollout = plan
        state.save(self._root, endpoint)

    def deploy(self, deployment: str, model_uri: str) -> Deployment:
        """Start (or replace) a deployment, the endpoint held by the caller; on `workers` when set."""
        endpoint = self._endpoint()
        state.valid_name("deployment", deployment)
        fresh = self._materialise(deployment, model_uri)
        old = endpoint.deployments.get(deployment)
        endpoint.deployments[deployment] = fresh
        endpoint.traffic.setdefault(deployment, 0)
        if self.workers is not None:
            endpoint.workers = self.workers
        try:
            failed = local_process.apply(self.context, endpoint, stoppable=True).get(deployment)
        except BaseException:
            self._forget(deployment, old)
            raise
        if failed is not None:
            self._forget(deployment, old)
            raise CreditopsError(f"deployment {deployment} did not load: {failed}")
        if old is not None and old.model_dir != fresh.model_dir:
            shutil.rmtree(old.model_dir, ignore_errors=True)
        return fresh

    def smoke(self, body: bytes, deployment: str | None = None) -> SmokeReport:
        endpoint = self._endpoint()
        expected = endpoint.deployments[deployment].model_version if deployment in endpoint.deployments else None
        return smoke_test(
            endpoint.url,
            body,
            api_key=state.read_key(self._root, self.name),
            deployment=deployment,
            max_latency_ms=1_000.0,
            expected_version=expected,
        )

    def set_traffic(self, weights: dict[str, int]) -> None:
        self._set_traffic(weights)

    def _set_traffic(self, weights: dict[str, int]) -> Endpoint:
        endpoint = self._endpoint()
        endpoint.traffic = checked_weights(weights, endpoint.deployments, self.name)
        local_process.apply(self.context, endpoint, stoppable=True)
        return endpoint

    def _set_mirror(self, mirror: dict[str, int]) -> None:
        """Mirror `pct` % of live requests to each named deployment (at most one; {} stops mirroring)."""
        endpoint = self._endpoint()
        for deployment, percent in mirror.items():
            if deployment not in endpoint.deployments:
                raise CreditopsError(f"no deployment named {deployment} on endpoint {self.name}")
            if not 0 <= percent <= 100:
                raise CreditopsError(f"mirror traffic must be 0..100 percent, not {percent}")
            if endpoint.traffic.get(deployment, 0) > 0:
                raise CreditopsError(
                    f"deployment {deployment} has live traffic: only an idle deployment is mirrored to"
                )
        endpoint.mirror = dict(mirror)
        local_process.apply(self.context, endpoint)

    def measure_step(self, body: bytes, step: int, deployment: str, count: int) -> StepFigures:
        """Requests through the endpoint until `deployment` has answered its share of `count`; its own
        figures (from the endpoint's metrics) and what the client saw."""
        endpoint = self._endpoint()
        key = state.read_key(self._root, self.name)
        before = figures.snapshot(endpoint.url, key)
        run = probe_share(endpoint.url, body, api_key=key, deployment=deployment, step=step, count=count)
        own = figures.deployment_figures(before, figures.snapshot(endpoint.url, key), deployment)
        failed = run.unreachable + run.errors_by_new + run.errors_by_others
        return StepFigures(own.requests, own.errors + failed, own.p99_ms, len(run.latencies_by_new_ms), run.sent)

    def measure_mirror(self, body: bytes, deployment: str, percent: int, count: int) -> MirrorFigures:
        """The front door compares each mirrored answer with the live one; read its figures."""
        endpoint = self._endpoint()
        key = state.read_key(self._root, self.name)
        before = figures.snapshot(endpoint.url, key)
        self._set_mirror({deployment: percent})
        try:
            for _ in range(MAX_ROUNDS):
                for _ in range(count):
                    post(endpoint.url, body, api_key=key, probe=True)
                measured = figures.mirror_figures(before, figures.snapshot(endpoint.url, key), deployment)
                if measured.requests >= max(1, count * percent // 100 - endpoint.workers):  # each worker rounds down
                    break
        finally:
            self._set_mirror({})
        return measured

    def restore(self, plan: RolloutPlan) -> None:
        """Put the traffic back as it was before `plan` and remove the deployment it added."""
        endpoint = self._endpoint()
        endpoint.traffic = {dep: plan.before.get(dep, 0) for dep in endpoint.deployments}
        endpoint.mirror = {}
        added = endpoint.deployments.get(plan.deployment)
        if added is not None and plan.deployment != plan.replaced:
            endpoint.deployments.pop(plan.deployment)
            endpoint.traffic.pop(plan.deployment, None)
        endpoint.rollout = None
        if processes.alive(endpoint.pid):
            local_process.apply(self.context, endpoint)
        else:
            state.save(self._root, endpoint)
        if added is not None and plan.deployment != plan.replaced:
            shutil.rmtree(added.model_dir, ignore_errors=True)

    def retire(self, old: Deployment, remember: bool) -> None:
        self._remove(old.name)
        if remember:
            endpoint = self._endpoint()
            endpoint.history.append(HistoryEntry(model_uri=old.model_uri, model_version=old.model_version))
            state.save(self._root, endpoint)

    def _remove(self, deployment: str) -> None:
        endpoint = self._endpoint()
        if deployment not in endpoint.deployments:
            raise CreditopsError(f"no deployment named {deployment} on endpoint {self.name}")
        if endpoint.traffic.get(deployment, 0) > 0:
            raise CreditopsError(f"deployment {deployment} still has {endpoint.traffic[deployment]}% of the traffic")
        gone = endpoint.deployments.pop(deployment)
        endpoint.traffic.pop(deployment, None)
        endpoint.mirror.pop(deployment, None)
        local_process.apply(self.context, endpoint)
        shutil.rmtree(gone.model_dir, ignore_errors=True)

    def history(self) -> list[HistoryEntry]:
        return list(self._endpoint().history)

    def forget_last(self) -> None:
        endpoint = self._endpoint()
        endpoint.history.pop()
        state.save(self._root, endpoint)

    # the endpoint's own copy of the model files

    def _materialise(self, deployment: str, model_uri: str) -> Deployment:
        """The endpoint's own copy of the model files (a registered version's, as verified against its
        registration), checked to load, with the digests its workers check before they load it."""
        from creditops.tracking import integrity
        from creditops.tracking.registry import Registry, load_model_dir, locate, save_model_dir

        registry = Registry(self.context.store_uri)
        found = locate(registry, model_uri)
        target = state.models(self._root, self.name) / f"{deployment}-{found.version_label}-{time.time_ns()}"
        if found.version is None:
            model = registry.load(found.uri)
            with atomic_path(target) as temporary:
                save_model_dir(model, temporary)
        else:
            with registry.verified_files(found.version) as folder, atomic_path(target) as temporary:
                shutil.copytree(folder, temporary)
            load_model_dir(target)
        digests = integrity.file_digests(target)
        if found.version is None:
            return Deployment(deployment, found.uri, "local", Path(found.uri).name, 0.5, str(target), digests)
        threshold = float(found.version.tags.get(names.THRESHOLD, 0.5))
        version = found.version
        return Deployment(deployment, found.uri, version.version, version.name, threshold, str(target), digests)

    def _forget(self, deployment: str, old: Deployment | None) -> None:
        """Undo a deploy that failed: the previous deployment of that name back, or none."""
        endpoint = self._endpoint()
        added = endpoint.deployments.get(deployment)
        if old is None:
            endpoint.deployments.pop(deployment, None)
            endpoint.traffic.pop(deployment, None)
        else:
            endpoint.deployments[deployment] = old
        state.save(self._root, endpoint)
        if added is not None and (old is None or added.model_dir != old.model_dir):
            shutil.rmtree(added.model_dir, ignore_errors=True)


def _appended(path: Path, start: int, deployment: str | None, stop: Callable[[], bool], poll: float) -> Iterator[str]:
    """The whole lines written to `path` past byte `start` (those naming `deployment`), until `stop()`."""
    position, partial = start, b""
    while not stop():
        size = path.stat().st_size if path.is_file() else 0
        if size < position:  # the log was removed and begun again (the endpoint deleted, created anew)
            position, partial = 0, b""
        if size == position:
            time.sleep(poll)
            continue
        with path.open("rb") as log:
            log.seek(position)
            chunk = log.read(size - position)
        position += len(chunk)
        *whole, partial = (partial + chunk).split(b"\n")
        for raw in whole:
            line = raw.decode("utf-8", errors="replace")
            if deployment is None or deployment in line:
                yield line
