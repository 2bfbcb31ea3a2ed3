"""Bulk import (fhir-server import): every resource validated like a write, in worker processes,
then committed through the write path (COPY for many), one transaction per batch. A bad
record is reported (file, line, issues) and skipped; the others are stored. Imported resources
keep their ids (update-as-create semantics, R4 http.html#upsert)."""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import multiprocessing.pool
import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import FhirError
from ..storage.resources import lock_and_read_versions
from . import write_path
from .context import Services, operator_context
from .import_sources import Record, read_records
from .versions import new_id

BATCH_SIZE = 500
MAX_LISTED_FAILURES = 1000
MAX_DEFERRED = 200_000  # records held back for references that come later; beyond, they fail at once
_worker: dict = {}


@dataclass
class Checked:
    record: Record
    version: write_path.Prepared | None = None  # as version 1
    issues: list[dict] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str] | None:
        return self.version.key if self.version else None


@dataclass
class ImportSummary:
    files: int = 0
    read: int = 0
    stored: int = 0
    failed: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    deferred: list = field(default_factory=list, repr=False)  # Checked records waiting for their references

    def fail(self, record: Record, issues: list[dict]) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append({**record.where(), "issues": issues})

    def as_json(self) -> dict:
        rate = round(self.stored / self.seconds, 1) if self.seconds else None
        return {
            "files": self.files,
            "read": self.read,
            "stored": self.stored,
            "failed": self.failed,
            "by_type": self.by_type,
            "seconds": round(self.seconds, 3),
            "resources_per_second": rate,
            "failures": self.failures,
            "failures_listed": len(self.failures),
        }


def _init_worker(services: Services) -> None:
    _worker["services"] = services
    # A validating worker allocates a model tree per record and keeps none of it: collect young
    # objects less often (a tenth of the check's CPU went to collections at the default 700).
    gc.set_threshold(50_000, 20, 20)


def _issue(error: FhirError) -> list[dict]:
    return [issue.as_json() for issue in error.issues]


def check_record(services: Services, record: Record, now: datetime | None = None) -> Checked:
    """Parse, validate and prepare one record, as a write would (no database). `now`: the instant
    stamped as meta.lastUpdated (one per batch: its records are stored in one transaction)."""
    if record.error:
        return Checked(record, issues=[{"severity": "error", "code": "structure", "diagnostics": record.error}])
    try:
        resource = orjson.loads(record.raw) if isinstance(record.raw, bytes) else record.raw
    except orjson.JSONDecodeError as error:
        return Checked(record, issues=[{"severity": "error", "code": "structure", "diagnostics": f"Not JSON: {error}"}])
    resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
    definition = services.registry.get(resource_type) if isinstance(resource_type, str) else None
    # a definition implies a str resourceType, which implies a dict resource: the last two only narrow the types
    if definition is None or not isinstance(resource_type, str) or not isinstance(resource, dict):
        return Checked(
            record,
            issues=[
                {
                    "severity": "error",
                    "code": "not-supported",
                    "diagnostics": f"Resource type {resource_type!r} is not served here",
                }
            ],
        )
    try:
        services.validator.validate(resource_type, resource)
    except FhirError as error:
        return Checked(record, issues=_issue(error))
    prepared = write_path.prepare(
        services,
        definition,
        resource,
        resource.get("id") or new_id(),
        1,
        Interaction.IMPORT,
        "PUT",
        now or datetime.now(UTC),
    )
    located = dataclasses.replace(record, raw=None)  # where it came from is enough from here on
    return Checked(located, write_path.for_copy(prepared))


def _check_batch(records: list[Record]) -> list[Checked]:
    services = _worker["services"]
    now = datetime.now(UTC)
    return [check_record(services, record, now) for record in records]


def _batches(paths: list[Path], summary: ImportSummary):
    total = sum(path.stat().st_size for path in paths) or 1
    done_before, batch = 0, []
    for path in paths:
        summary.files += 1
        consumed = 0
        for record, consumed in read_records(path):
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                yield batch, (done_before + consumed) / total
                batch = []
        done_before += path.stat().st_size
    if batch:
        yield batch, 1.0


def import_paths(services: Services, paths: list[Path], progress=None, workers: int | None = None) -> ImportSummary:
    """Import every file; progress(fraction, summary) is called after each stored batch."""
    summary = ImportSummary()
    started = time.perf_counter()
    workers = workers or max(1, os.cpu_count() or 1)
    gc.freeze()  # the long-lived objects (models, registry) stay out of every collection, in the workers too
    pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (services,))
    try:
        pending: deque[tuple[multiprocessing.pool.AsyncResult, float]] = deque()
        for batch, fraction in _batches(paths, summary):
            pending.append((pool.apply_async(_check_batch, (batch,)), fraction))
            if len(pending) > 2 * workers:
                _store(services, summary, *pending.popleft(), progress, started)
        while pending:
            _store(services, summary, *pending.popleft(), progress, started)
        _store_deferred(services, summary)
    finally:
        pool.close()
        pool.join()
    summary.seconds = time.perf_counter() - started
    return summary


def _store(services: Services, summary: ImportSummary, result, fraction: float, progress, started: float) -> None:
    checked = result.get()
    summary.read += len(checked)
    valid = []
    for item in checked:
        if item.issues:
            summary.fail(item.record, item.issues)
        else:
            valid.append(item)
    for group in _without_repeated_keys(valid):
        _store_group(services, summary, group)
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(fraction, summary)


def _without_repeated_keys(items: list[Checked]):
    """Groups in which each resource appears once (one INSERT cannot write a row twice)."""
    group: list[Checked]
    keys: set[tuple[str, str] | None]
    group, keys = [], set()
    for item in items:
        if item.key in keys:
            yield group
            group, keys = [], set()
        group.append(item)
        keys.add(item.key)
    if group:
        yield group


def _store_deferred(services: Services, summary: ImportSummary) -> None:
    """Records that referenced resources not stored yet, once everything else is in: a file may
    list MedicationRequests before their Patients, or the Patients may come in a later file.
    Repeated while that stores some; what still does not resolve then fails."""
    previous = None
    while summary.deferred:
        waiting, summary.deferred = summary.deferred, []
        final = len(waiting) == previous  # the last round stored none of them
        previous = len(waiting)
        for group in _without_repeated_keys(waiting):
            _store_group(services, summary, group, defer=not final)


def _prepared(item: Checked) -> write_path.Prepared:
    assert item.version is not None  # only records without issues are stored, and each of those has its version
    return item.version


def _store_group(services: Services, summary: ImportSummary, items: list[Checked], defer: bool = True) -> None:
    """Records whose local references resolve neither to a stored resource nor to another record
    kept in this group are set aside (defer, for _store_deferred) or reported."""

    def unresolved(index: int, missing: list) -> None:
        if defer and len(summary.deferred) < MAX_DEFERRED:
            summary.deferred.append(items[index])
        else:
            summary.fail(
                items[index].record,
                [
                    {
                        "severity": "error",
                        "code": "not-found",
                        "expression": [expression],
                        "diagnostics": f"Reference {t[0]}/{t[1]} does not resolve to an existing resource",
                    }
                    for t, expression in missing
                ],
            )

    ctx = operator_context(services, "import")
    with write_path.transaction(ctx) as conn:
        current = lock_and_read_versions(conn, [_prepared(item).key for item in items])
        versions = [write_path.with_version(_prepared(item), current.get(_prepared(item).key, 0) + 1) for item in items]
        stored = write_path.commit(ctx, conn, versions, unresolved)
    summary.stored += len(stored)
    for version in stored:
        summary.by_type[version.resource_type] = summary.by_type.get(version.resource_type, 0) + 1
