"""A deployment's own figures, read from the endpoint's `/metrics`: what a rollout step judges.

Latency is the time the deployment took to answer (read, parse, score, encode) as it measured it,
not the time a client waited: a busy machine slows the client and the queue, not the deployment's
verdict. Percentiles come from histogram buckets, so they are bounds (`p99 ≤ 5 ms`).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from creditops.endpoints.decisions import MirrorFigures
from creditops.errors import CreditopsError

SCORING_ROUTES = ("/score", "/invocations")
REQUESTS = "creditops_requests_total"
LATENCY = "creditops_request_seconds_bucket"


@dataclass(frozen=True)
class Snapshot:
    """Counter values at one instant, by metric sample name and labels."""

    values: Mapping[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def total(self, sample: str, **labels: str) -> float:
        """The sum of `sample` over every series whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(value for (name, keys), value in self.values.items() if name == sample and wanted <= set(keys))

    def buckets(self, sample: str, **labels: str) -> dict[float, float]:
        """Cumulative histogram counts by upper bound, summed over the series matching `labels`."""
        wanted = set(labels.items())
        counts: dict[float, float] = defaultdict(float)
        for (name, keys), value in self.values.items():
            if name == sample and wanted <= set(keys):
                counts[float(dict(keys)["le"])] += value
        return dict(counts)


def snapshot(url: str, api_key: str | None) -> Snapshot:
    """The endpoint's metrics now (every worker's, aggregated)."""
    from prometheus_client.parser import text_string_to_metric_families

    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        answer = httpx.get(f"{url}/metrics", headers=headers, timeout=10.0)
    except httpx.HTTPError as error:
        raise CreditopsError(f"cannot read the metrics of {url}: {error}") from error
    if answer.status_code != 200:
        raise CreditopsError(f"the metrics of {url} answered {answer.status_code}: {answer.text[:200]}")
    values = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[sample.name, tuple(sorted(sample.labels.items()))] = float(sample.value)
    return Snapshot(values)


def quantile_bound(before: Mapping[float, float], after: Mapping[float, float], quantile: float) -> float:
    """The upper bound (in the histogram's unit) of the bucket holding `quantile` of what was observed
    between two snapshots; 0 when nothing was."""
    bounds = sorted(after)
    counts = [after[bound] - before.get(bound, 0.0) for bound in bounds]
    if not counts or counts[-1] <= 0:
        return 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= quantile * counts[-1]:
            return bound
    return bounds[-1]


@dataclass(frozen=True)
class DeploymentFigures:
    """What one deployment answered between two snapshots."""

    requests: int
    errors: int
    p99_ms: float


def deployment_figures(
    before: Snapshot, after: Snapshot, deployment: str, routes: Sequence[str] = SCORING_ROUTES
) -> DeploymentFigures:
    """Requests, non-200 answers and p99 bound (ms) of `deployment` on `routes` between the snapshots."""
    requests = errors = 0.0
    before_buckets: dict[float, float] = defaultdict(float)
    after_buckets: dict[float, float] = defaultdict(float)
    for route in routes:
        labels = {"deployment": deployment, "route": route}
        answered = after.total(REQUESTS, **labels) - before.total(REQUESTS, **labels)
        ok = after.total(REQUESTS, status="200", **labels) - before.total(REQUESTS, status="200", **labels)
        requests, errors = requests + answered, errors + answered - ok
        for bound, count in before.buckets(LATENCY, **labels).items():
            before_buckets[bound] += count
        for bound, count in after.buckets(LATENCY, **labels).items():
            after_buckets[bound] += count
    p99 = quantile_bound(before_buckets, after_buckets, 0.99)
    return DeploymentFigures(int(requests), int(errors), 1000 * p99)


def mirror_figures(before: Snapshot, after: Snapshot, deployment: str) -> MirrorFigures:
    """What mirroring to `deployment` measured between the snapshots."""

    def delta(sample: str) -> float:
        return after.total(sample, deployment=deployment) - before.total(sample, deployment=deployment)

    rows = int(delta("creditops_mirror_rows_total"))
    delta_sum = delta("creditops_mirror_abs_delta_sum")
    largest = quantile_bound(
        before.buckets("creditops_mirror_abs_delta_bucket", deployment=deployment),
        after.buckets("creditops_mirror_abs_delta_bucket", deployment=deployment),
        1.0,
    )
    latency = quantile_bound(
        before.buckets(LATENCY, deployment=deployment, route="mirror"),
        after.buckets(LATENCY, deployment=deployment, route="mirror"),
        0.99,
    )
    return MirrorFigures(
        requests=int(delta("creditops_mirror_requests_total")),
        errors=int(delta("creditops_mirror_errors_total")),
        rows=rows,
        disagreements=int(delta("creditops_mirror_disagreements_total")),
        mean_abs_delta=delta_sum / rows if rows else 0.0,
        max_abs_delta=largest,
        p99_ms=1000 * latency,
    )
