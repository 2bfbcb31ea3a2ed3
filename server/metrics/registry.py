"""The process's Prometheus metrics, in one place, so every module counts into the same names.

Under `fhir-server serve` each granian worker is a process: prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set by serve before the workers start) keeps each worker's values in its own file and
the scrape adds them up. prometheus-client picks its storage when first imported, so it is imported, and the
metrics made, on first use (in a worker), never at import: use `registry.REQUESTS`, not `from registry import`.

Labels never carry request data: route templates, interaction names, resource types from the registry and
status codes only (no ids, no query values: no PHI)."""

from __future__ import annotations

import os
import re
from pathlib import Path

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PID_FILE = re.compile(r"_(\d+)\.db$")
_metrics: dict = {}


def _build() -> dict:
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "REQUESTS": Counter("fhir_http_requests", "HTTP requests answered", ["interaction", "type", "status"]),
        "LATENCY": Histogram(
            "fhir_http_request_duration_seconds",
            "Time to answer a request, once it is whole",
            ["interaction", "type"],
            buckets=LATENCY_BUCKETS,
        ),
        "DATABASE_ERRORS": Counter("fhir_database_errors", "Requests that failed on the database", ["kind"]),
        "POOL_SIZE": Gauge("fhir_db_pool_connections", "Database connections open", multiprocess_mode="livesum"),
        "POOL_IN_USE": Gauge(
            "fhir_db_pool_connections_in_use", "Database connections lent to requests", multiprocess_mode="livesum"
        ),
        "POOL_WAITING": Gauge(
            "fhir_db_pool_requests_waiting", "Requests waiting for a database connection", multiprocess_mode="livesum"
        ),
        # Hooks for the parts that own these numbers: they set them, /metrics shows them.
        "AUDIT_BUFFER_DEPTH": Gauge(
            "fhir_audit_buffer_depth", "AuditEvents buffered, not yet written", multiprocess_mode="livesum"
        ),
        "EXPORT_JOBS": Gauge("fhir_export_jobs", "Bulk export jobs by state", ["state"], multiprocess_mode="max"),
    }


METRICS = frozenset(
    {
        "REQUESTS",
        "LATENCY",
        "DATABASE_ERRORS",
        "POOL_SIZE",
        "POOL_IN_USE",
        "POOL_WAITING",
        "AUDIT_BUFFER_DEPTH",
        "EXPORT_JOBS",
    }
)


def __getattr__(name: str):
    if name not in METRICS:  # the import system asks for others (__path__, ...): those must not build anything
        raise AttributeError(name)
    if not _metrics:
        _metrics.update(_build())
    return _metrics[name]


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def forget_dead_workers() -> None:
    """A worker that died (and was respawned) leaves its gauge files: drop those of processes that are gone."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return
    from prometheus_client import multiprocess

    for path in Path(directory).glob("*.db"):
        match = _PID_FILE.search(path.name)
        if match and not _alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition() -> tuple[bytes, str]:
    """The text format of every worker's metrics (this process's alone when not under serve)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if not _metrics:
        _metrics.update(_build())
    if not multiprocess_enabled():
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
