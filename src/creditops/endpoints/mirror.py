"""Mirror traffic: a copy of live requests scored by a deployment whose answers no client sees.

Each worker compares the mirror deployment's predictions with the live ones on the same rows and
counts the comparison in Prometheus metrics; the rollout reads them back through `/metrics`.
"""

from typing import Final

import numpy as np

ABS_DELTA_BUCKETS: Final = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


class MirrorMetrics:
    """Requests mirrored, rows compared, class disagreements, |Δ probability| and failures, per deployment."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "creditops_mirror_requests", "Requests mirrored", ("deployment",), registry=self.registry
        )
        self.errors = Counter(
            "creditops_mirror_errors", "Mirrored requests it failed", ("deployment",), registry=self.registry
        )
        self.rows = Counter("creditops_mirror_rows", "Rows compared", ("deployment",), registry=self.registry)
        self.disagreements = Counter(
            "creditops_mirror_disagreements",
            "Rows whose class differs from the live answer",
            ("deployment",),
            registry=self.registry,
        )
        self.delta = Histogram(
            "creditops_mirror_abs_delta",
            "|probability of the mirror deployment - live probability| per row",
            ("deployment",),
            buckets=ABS_DELTA_BUCKETS,
            registry=self.registry,
        )

    def compare(
        self,
        deployment: str,
        live: tuple[np.ndarray, np.ndarray],
        mirrored: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Count one mirrored request: `live` and `mirrored` are (probabilities, classes) of the same rows."""
        self.requests.labels(deployment).inc()
        self.rows.labels(deployment).inc(len(live[0]))
        self.disagreements.labels(deployment).inc(int(np.count_nonzero(live[1] != mirrored[1])))
        histogram = self.delta.labels(deployment)
        for difference in np.abs(live[0] - mirrored[0]).tolist():
            histogram.observe(difference)

    def failed(self, deployment: str) -> None:
        self.requests.labels(deployment).inc()
        self.errors.labels(deployment).inc()


def selected(count: int, percent: int) -> bool:
    """Whether the `count`-th request (from 1) is mirrored: exactly `percent` of every 100, evenly spread."""
    return (count * percent) // 100 != ((count - 1) * percent) // 100
