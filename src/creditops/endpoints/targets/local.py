"""The local target: the endpoint's front door on this machine (`endpoints.manager`)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from creditops import processes
from creditops.context import Context
from creditops.endpoints import figures, manager, state
from creditops.endpoints.decisions import MirrorFigures, StepFigures
from creditops.endpoints.smoke import MAX_ROUNDS, SmokeReport, post, probe_share
from creditops.endpoints.state import Deployment, HistoryEntry, RolloutPlan
from creditops.errors import CreditopsError
from creditops.say import Say


@dataclass
class LocalTarget:
    """Endpoint `name` of the context's workspace; `workers` (when set) for the deployments it starts;
    `admit` (when set) says which models may get traffic again when a stopped endpoint starts."""

    context: Context
    name: str
    workers: int | None = None
    admit: Callable[[str], str | None] | None = None

    def exists(self) -> bool:
        return state.exists(self.context.endpoints_dir, self.name)

    def ensure(self, port: int | None = None) -> None:
        """Started again if it exists, else created on `port`, else on the environment's port, else on a
        free one (recorded in the endpoint state)."""
        if self.exists():
            manager.start(self.context, self.name, self.admit)
            return
        settings = self.context.env.endpoint
        chosen = port or settings.port
        if chosen is not None and processes.port_in_use(chosen):
            holder = manager.port_holder(self.context, chosen)
            held = f" by {holder}" if holder else ""
            raise CreditopsError(
                f"port {chosen} for endpoint {self.name} is in use{held}: pass --port with a free one, or set"
                f" endpoint.port to null in config/environments/{self.context.env.name}.yaml for a free port"
            )
        manager.create(self.context, self.name, chosen, settings.auth, settings.workers)

    def describe(self) -> str:
        return f"the local endpoint {self.name} at {self._endpoint().url} (this machine)"

    def changing(self, what: str, say: Say) -> AbstractContextManager[None]:
        return manager.busy(self.context, self.name, what, say)

    def _endpoint(self) -> state.Endpoint:
        return state.load(self.context.endpoints_dir, self.name)

    def live(self) -> Deployment | None:
        return self._endpoint().live()

    def traffic(self) -> dict[str, int]:
        return dict(self._endpoint().traffic)

    def record_plan(self, plan: RolloutPlan | None) -> None:
        endpoint = self._endpoint()
        endpoint.rollout = plan
        state.save(self.context.endpoints_dir, endpoint)

    def deploy(self, deployment: str, model_uri: str) -> Deployment:
        return manager.deploy_unlocked(self.context, self.name, deployment, model_uri, self.workers)

    def smoke(self, body: bytes, deployment: str) -> SmokeReport:
        return manager.smoke(self.context, self.name, body, deployment=deployment)

    def set_traffic(self, weights: dict[str, int]) -> None:
        manager.set_traffic_unlocked(self.context, self.name, weights)

    def measure_step(self, body: bytes, step: int, deployment: str, count: int) -> StepFigures:
        """Requests through the endpoint until `deployment` has answered its share of `count`; its own
        figures (from the endpoint's metrics) and what the client saw."""
        endpoint = self._endpoint()
        key = state.read_key(self.context.endpoints_dir, self.name)
        before = figures.snapshot(endpoint.url, key)
        run = probe_share(endpoint.url, body, api_key=key, deployment=deployment, step=step, count=count)
        own = figures.deployment_figures(before, figures.snapshot(endpoint.url, key), deployment)
        failed = run.unreachable + run.errors_by_new + run.errors_by_others
        return StepFigures(own.requests, own.errors + failed, own.p99_ms, len(run.latencies_by_new_ms), run.sent)

    def measure_mirror(self, body: bytes, deployment: str, percent: int, count: int) -> MirrorFigures:
        """The front door compares each mirrored answer with the live one; read its figures."""
        endpoint = self._endpoint()
        key = state.read_key(self.context.endpoints_dir, self.name)
        before = figures.snapshot(endpoint.url, key)
        manager.set_mirror_unlocked(self.context, self.name, {deployment: percent})
        try:
            for _ in range(MAX_ROUNDS):
                for _ in range(count):
                    post(endpoint.url, body, api_key=key, probe=True)
                measured = figures.mirror_figures(before, figures.snapshot(endpoint.url, key), deployment)
                if measured.requests >= max(1, count * percent // 100 - endpoint.workers):  # each worker rounds down
                    break
        finally:
            manager.set_mirror_unlocked(self.context, self.name, {})
        return measured

    def restore(self, plan: RolloutPlan) -> None:
        manager.restore(self.context, self.name, plan)

    def retire(self, old: Deployment, remember: bool) -> None:
        manager.remove_unlocked(self.context, self.name, old.name)
        if remember:
            endpoint = self._endpoint()
            endpoint.history.append(HistoryEntry(model_uri=old.model_uri, model_version=old.model_version))
            state.save(self.context.endpoints_dir, endpoint)

    def history(self) -> list[HistoryEntry]:
        return list(self._endpoint().history)

    def forget_last(self) -> None:
        endpoint = self._endpoint()
        endpoint.history.pop()
        state.save(self.context.endpoints_dir, endpoint)
