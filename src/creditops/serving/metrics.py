"""Prometheus metrics of the scoring service: requests, errors and latency per route and deployment.

With several worker processes, prometheus_client's multiprocess mode aggregates every worker into one
exposition. prometheus_client chooses its storage when first imported, so it is imported here on use,
after the server has set PROMETHEUS_MULTIPROC_DIR.
"""

import os
from typing import Any, Final

LATENCY_BUCKETS: Final = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class ServiceMetrics:
    """Counters and a latency histogram, labelled by route, deployment and status."""

    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self, deployment: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.deployment = deployment
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "creditops_requests",
            "Scoring requests answered",
            ("route", "deployment", "status"),
            registry=self.registry,
        )
        self.errors = Counter(
            "creditops_errors",
            "Scoring requests answered with an error status",
            ("route", "deployment", "status"),
            registry=self.registry,
        )
        self._series: dict[tuple[str, int], tuple[Any, ...]] = {}
        self.latency = Histogram(
            "creditops_request_seconds",
            "Time to answer a scoring request",
            ("route", "deployment"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        series = self._series.get((route, status))
        if series is None:
            code = str(status)
            errors = self.errors.labels(route, self.deployment, code) if status >= 400 else None
            series = (
                self.requests.labels(route, self.deployment, code),
                errors,
                self.latency.labels(route, self.deployment),
            )
            self._series[route, status] = series
        requests, errors, latency = series
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format (all worker processes when there are several)."""
        from prometheus_client import CollectorRegistry, generate_latest

        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            from prometheus_client import multiprocess

            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)
