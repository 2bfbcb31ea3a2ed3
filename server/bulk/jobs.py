"""Export jobs seen from a client: kick-off, status (export.html#bulk-data-status-request), cancel
(#bulk-data-delete-request) and the files of a completed job (#file-request), each only for the
client that started the job."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..fhir.interactions import Interaction
from ..fhir.outcomes import FhirError, NotFound
from ..interactions import audit
from ..interactions.context import RequestContext
from ..interactions.export import ExportRequest, export_plan
from ..storage import export_jobs
from ..storage.export_jobs import Job
from .files import FileStore, LocalFileStore

log = logging.getLogger("server.bulk")


class TooManyJobs(FhirError):
    status, code = 429, "throttled"


@dataclass(frozen=True)
class ExportSettings:
    directory: Path
    ttl_seconds: int = 24 * 3600
    max_jobs_per_client: int = 3
    file_resources: int = 100_000  # a type's output is split into files of at most this many resources
    workers: int = 1  # export worker threads per server process
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0  # how often an idle worker looks for a job
    retry_after_seconds: int = 2


@dataclass
class Exports:
    """Built once per process: the job queue's client side and the file store."""

    settings: ExportSettings
    store: FileStore
    wake: threading.Event = field(default_factory=threading.Event)  # set on kick-off: idle workers look now

    @classmethod
    def local(cls, settings: ExportSettings) -> Exports:
        return cls(settings, LocalFileStore(settings.directory))


def client_of(ctx: RequestContext) -> str:
    return ctx.guard.policy.client_id or ctx.guard.policy.subject or "-"


def kick_off(exports: Exports, ctx: RequestContext, request: ExportRequest, request_url: str, claims: dict) -> str:
    """Checks the request as the job will run it, queues the job; returns its id."""
    plan = export_plan(ctx, request)  # raises now (400, 403, 404) what would fail later
    if plan.patients and ctx.access is not None:  # the kick-off's AuditEvent names the patients it asks for
        audit.record(ctx, Interaction.OPERATION, patients=plan.patients, subtype="$export")
    client = client_of(ctx)
    job_id = uuid.uuid4().hex
    access = {k: claims.get(k) for k in ("scope", "patient", "fhirUser", "sub", "client_id")}
    access["practitioner_access"] = ctx.guard.policy.practitioner_access
    # the job carries what the kick-off's server was configured with, whichever server runs it
    parameters = {
        **request.as_json(),
        "base_url": ctx.base_url,
        "ttl_seconds": exports.settings.ttl_seconds,
        "file_resources": exports.settings.file_resources,
    }
    with ctx.services.database.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"export:{client}",))
        if export_jobs.active_jobs(conn, client) >= exports.settings.max_jobs_per_client:
            raise TooManyJobs(
                f"This client already has {exports.settings.max_jobs_per_client} exports running;"
                " wait for one to finish or cancel one",
                headers={"Retry-After": "60"},
            )
        export_jobs.insert_job(conn, job_id, client, request_url, parameters, access, exports.settings.ttl_seconds)
    exports.wake.set()
    log.info("export queued", extra={"job": job_id, "client": client, "level": request.level})
    return job_id


def own_job(ctx: RequestContext, job_id: str) -> Job:
    with ctx.services.database.connection() as conn:
        job = export_jobs.get_job(conn, job_id)
    if job is None or job.client_id != client_of(ctx):  # another client's job is not told apart from none
        raise NotFound(f"No export job {job_id} (it may have expired or been cancelled)")
    return job


def cancel(exports: Exports, ctx: RequestContext, job_id: str) -> None:
    """Removes the job and its files; a worker running it stops at its next heartbeat."""
    own_job(ctx, job_id)
    with ctx.services.database.connection() as conn:
        export_jobs.delete_job(conn, job_id)
    exports.store.delete_prefix(job_id)
    log.info("export cancelled", extra={"job": job_id})


def file_key(job: Job, name: str) -> str:
    return f"{job.id}/{job.attempt}/{name}"


def output_file(exports: Exports, ctx: RequestContext, job_id: str, name: str) -> str:
    """The store key of one file a completed job's manifest lists."""
    job = own_job(ctx, job_id)
    listed = {
        entry["url"].rpartition("/")[2] for key in ("output", "error") for entry in (job.manifest or {}).get(key, ())
    }
    if job.status != "completed" or name not in listed or not exports.store.exists(file_key(job, name)):
        raise NotFound(f"No file {name} in export {job_id}")
    log.info("export file served", extra={"job": job_id, "file": name, "client": job.client_id})
    return file_key(job, name)
