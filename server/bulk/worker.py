"""Export workers: claim a job from the queue (SKIP LOCKED), write its NDJSON files from one
snapshot, renew the lease as they go, publish the manifest. A job whose worker died (lease run out)
is claimed again and restarted from the beginning under a new attempt number, in a new folder."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from ..auth.guard import Guard
from ..fhir.outcomes import Issue, operation_outcome
from ..interactions import repository
from ..interactions.context import RequestContext, Services
from ..interactions.export import ExportRequest, export_plan
from ..storage import export_jobs
from ..storage.export_jobs import Job
from .jobs import Exports, file_key

log = logging.getLogger("server.bulk")
BATCH = 2000


class LeaseLost(Exception):
    """The job was cancelled, or another worker took it over: stop writing."""


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Run:
    """One attempt at one job."""

    def __init__(self, services: Services, exports: Exports, job: Job, on_progress: Callable | None = None):
        self.services, self.exports, self.job, self.on_progress = services, exports, job, on_progress
        self.done = 0
        self.total: int | None = None
        self.transaction_time: datetime | None = None
        self.renewed = time.monotonic()

    def heartbeat(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.renewed < self.exports.settings.lease_seconds / 3:
            return
        with self.services.database.connection() as conn:
            if not export_jobs.renew_lease(
                conn, self.job, self.exports.settings.lease_seconds, self.done, self.total, self.transaction_time
            ):
                raise LeaseLost(self.job.id)
        self.renewed = time.monotonic()

    def url(self, name: str) -> str:
        return f"{self.job.parameters['base_url']}/bulkfiles/{self.job.id}/{name}"

    def run(self) -> dict:
        guard = Guard.from_claims(self.job.access, self.services.base_url, self.job.access["practitioner_access"])
        ctx = self.ctx = RequestContext(self.services, guard, f"export-{self.job.id}")
        request = ExportRequest.from_json(self.job.parameters)
        plan = export_plan(ctx, request)
        output = []
        with repository.export_snapshot(ctx) as (conn, transaction_time):
            self.transaction_time = transaction_time
            counts = [repository.export_count(ctx, conn, p) for p in plan.plans]
            self.total = sum(counts)
            self.heartbeat(force=True)
            for search_plan, expected in zip(plan.plans, counts, strict=False):
                if expected:
                    output += self.write_type(conn, search_plan)
        errors = [self.write_errors(plan.issues)] if plan.issues else []
        return {
            "transactionTime": _instant(transaction_time),
            "request": self.job.request_url,
            "requiresAccessToken": True,
            "output": output,
            "error": errors,
        }

    def write_type(self, conn, search_plan) -> list[dict]:
        resource_type, store = search_plan.resource_type, self.exports.store
        limit = self.job.parameters["file_resources"]
        files: list[dict] = []
        writer, in_file = None, 0

        def close():
            name = f"{resource_type}-{len(files) + 1}.ndjson"
            writer.commit()
            files.append({"type": resource_type, "url": self.url(name), "count": in_file})

        try:
            for batch in repository.export_stream(self.ctx, conn, search_plan, BATCH):
                start = 0
                while start < len(batch):
                    if writer is None:
                        writer = store.writer(file_key(self.job, f"{resource_type}-{len(files) + 1}.ndjson"))
                    take = batch[start : start + limit - in_file]
                    writer.write(("\n".join(take) + "\n").encode())
                    in_file += len(take)
                    start += len(take)
                    self.done += len(take)
                    if in_file == limit:
                        close()
                        writer, in_file = None, 0
                self.heartbeat()
                if self.on_progress:
                    self.on_progress(self.done, self.total)
            if writer is not None:
                close()
                writer = None
        finally:
            if writer is not None:
                writer.abort()
        return files

    def write_errors(self, issues: list[Issue]) -> dict:
        writer = self.exports.store.writer(file_key(self.job, "OperationOutcome-1.ndjson"))
        writer.write(orjson.dumps(operation_outcome(issues)) + b"\n")
        writer.commit()
        return {"type": "OperationOutcome", "url": self.url("OperationOutcome-1.ndjson")}


def run_job(services: Services, exports: Exports, job: Job, on_progress: Callable | None = None) -> str:
    """Runs one claimed job to its end; returns its final status (completed, failed, or lost)."""
    started = time.monotonic()
    for attempt in range(1, job.attempt):  # files of attempts that died are never listed: remove them
        exports.store.delete_prefix(f"{job.id}/{attempt}")
    run = _Run(services, exports, job, on_progress)
    try:
        manifest = run.run()
        status, error = "completed", None
    except LeaseLost:
        exports.store.delete_prefix(f"{job.id}/{job.attempt}")
        log.info("export stopped: cancelled or taken over", extra={"job": job.id, "attempt": job.attempt})
        return "lost"
    except Exception as failure:  # the job fails with an OperationOutcome; the worker carries on
        log.exception("export failed", extra={"job": job.id})
        diagnostics = getattr(failure, "issues", None) or [
            Issue(f"The export failed: {type(failure).__name__}", "exception")
        ]
        status, manifest, error = "failed", None, operation_outcome(diagnostics)
    with services.database.connection() as conn:
        published = export_jobs.finish_job(conn, job, status, manifest, error, job.parameters["ttl_seconds"])
    if not published:
        exports.store.delete_prefix(f"{job.id}/{job.attempt}")
        return "lost"
    if status == "completed":
        seconds = time.monotonic() - started
        log.info(
            "export completed",
            extra={
                "job": job.id,
                "resources": run.done,
                "seconds": round(seconds, 2),
                "resources_per_second": round(run.done / seconds) if seconds else None,
            },
        )
    return status


class ExportWorker:
    """A background thread that works the queue until stopped; several per machine share it safely."""

    def __init__(self, services: Services, exports: Exports, name: str | None = None):
        self.services, self.exports = services, exports
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run_once(self) -> str | None:
        """Sweep expired jobs, claim one job and run it; None when the queue is empty."""
        with self.services.database.connection() as conn:
            for job_id in export_jobs.expired_jobs(conn):
                self.exports.store.delete_prefix(job_id)
            job = export_jobs.claim_job(conn, self.owner, self.exports.settings.lease_seconds)
        if job is None:
            return None
        log.info("export claimed", extra={"job": job.id, "attempt": job.attempt, "worker": self.owner})
        return run_job(self.services, self.exports, job)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.run_once() is None:
                    self.exports.wake.wait(self.exports.settings.poll_seconds)
                    self.exports.wake.clear()
            except Exception:  # a database hiccup must not end the thread
                if self.services.database.closed:  # the process closed its pool without stop(): it is ending
                    log.info("export worker stopped: the database pool is closed", extra={"worker": self.owner})
                    return
                log.exception("export worker error")
                self.stopping.wait(self.exports.settings.poll_seconds)

    def start(self) -> ExportWorker:
        self.thread = threading.Thread(target=self._loop, name=f"export-worker-{self.owner}", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        self.exports.wake.set()
        if self.thread is not None:
            self.thread.join(timeout)


def run_here(
    services: Services, exports: Exports, request: ExportRequest, claims: dict, on_progress: Callable | None = None
) -> tuple[str, Job]:
    """Runs an export in this process (the CLI): the same job row and steps a worker would take."""
    guard = Guard.from_claims(claims, services.base_url, services.practitioner_access)
    export_plan(RequestContext(services, guard, "export-cli"), request)  # refuse before creating anything
    job_id, owner = uuid.uuid4().hex, f"cli:{socket.gethostname()}:{os.getpid()}"
    access = {
        **{k: claims.get(k) for k in ("scope", "patient", "fhirUser", "sub", "client_id")},
        "practitioner_access": services.practitioner_access,
    }
    parameters = {
        **request.as_json(),
        "base_url": services.base_url,
        "ttl_seconds": exports.settings.ttl_seconds,
        "file_resources": exports.settings.file_resources,
    }
    with services.database.connection() as conn:
        job = export_jobs.insert_job(
            conn,
            job_id,
            claims.get("client_id") or "-",
            f"{services.base_url}/$export",
            parameters,
            access,
            exports.settings.ttl_seconds,
            claimed_by=(owner, exports.settings.lease_seconds),
        )
    status = run_job(services, exports, job, on_progress)
    with services.database.connection() as conn:
        finished = export_jobs.get_job(conn, job_id)
    assert finished is not None  # inserted above and just run by this process
    return status, finished
