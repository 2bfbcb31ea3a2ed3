"""The export job queue (migrations/0013): rows claimed with FOR UPDATE SKIP LOCKED, held by a lease.

Every change a worker makes to its job names the lease (owner and attempt): a worker that lost its
lease (it stalled, another restarted the job) changes nothing, so each job is written by exactly one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

ACTIVE = ("queued", "running")
_COLUMNS = (
    "id, client_id, status, request_url, parameters, access, created_at, expires_at, attempt,"
    " lease_owner, lease_until, done, total, transaction_time, manifest, error"
)


@dataclass(frozen=True)
class Job:
    id: str
    client_id: str
    status: str
    request_url: str
    parameters: dict
    access: dict
    created_at: datetime
    expires_at: datetime
    attempt: int
    lease_owner: str | None
    lease_until: datetime | None
    done: int
    total: int | None
    transaction_time: datetime | None
    manifest: dict | None
    error: dict | None


def insert_job(
    conn: psycopg.Connection,
    id: str,
    client_id: str,
    request_url: str,
    parameters: dict,
    access: dict,
    ttl_seconds: int,
    claimed_by: tuple[str, float] | None = None,
) -> Job:
    """A new job, queued for the workers; with `claimed_by` (owner, lease seconds) it starts out running,
    leased to its creator (the CLI runs its own job), and is never queued."""
    owner, lease_seconds = claimed_by if claimed_by is not None else (None, None)
    status, attempt = ("running", 1) if claimed_by is not None else ("queued", 0)
    row = conn.execute(
        "INSERT INTO export_jobs (id, client_id, request_url, parameters, access, expires_at, status, attempt,"
        " lease_owner, lease_until) VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s), %s, %s,"
        f" %s, now() + make_interval(secs => %s::double precision)) RETURNING {_COLUMNS}",  # NULL lease: NULL
        (
            id,
            client_id,
            request_url,
            Jsonb(parameters),
            Jsonb(access),
            ttl_seconds,
            status,
            attempt,
            owner,
            lease_seconds,
        ),
    ).fetchone()
    assert row is not None  # INSERT ... RETURNING returns the inserted row
    return Job(*row)


def active_jobs(conn: psycopg.Connection, client_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM export_jobs WHERE client_id = %s"
        " AND status IN ('queued', 'running') AND expires_at > now()",
        (client_id,),
    ).fetchone()
    assert row is not None  # the query always returns one row
    return row[0]


def get_job(conn: psycopg.Connection, id: str) -> Job | None:
    """The job, unless it has expired (then it is as good as gone)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM export_jobs WHERE id = %s AND expires_at > now()", (id,)).fetchone()
    return Job(*row) if row else None


def delete_job(conn: psycopg.Connection, id: str) -> bool:
    return conn.execute("DELETE FROM export_jobs WHERE id = %s", (id,)).rowcount > 0


def claim_job(conn: psycopg.Connection, owner: str, lease_seconds: float) -> Job | None:
    """The oldest queued job, or a running one whose lease ran out (its worker died), now leased to owner."""
    row = conn.execute(
        f"UPDATE export_jobs SET status = 'running', lease_owner = %s, attempt = attempt + 1, done = 0,"
        f" lease_until = now() + make_interval(secs => %s)"
        f" WHERE id = (SELECT id FROM export_jobs WHERE expires_at > now() AND"
        f"  (status = 'queued' OR (status = 'running' AND lease_until < now()))"
        f"  ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
        f" RETURNING {_COLUMNS}",
        (owner, lease_seconds),
    ).fetchone()
    return Job(*row) if row else None


def renew_lease(
    conn: psycopg.Connection,
    job: Job,
    lease_seconds: float,
    done: int,
    total: int | None,
    transaction_time: datetime | None,
) -> bool:
    """Heartbeat with progress; False once the lease is lost or the job was cancelled (deleted)."""
    return (
        conn.execute(
            "UPDATE export_jobs SET lease_until = now() + make_interval(secs => %s), done = %s, total = %s,"
            " transaction_time = %s WHERE id = %s AND lease_owner = %s AND attempt = %s AND status = 'running'",
            (lease_seconds, done, total, transaction_time, job.id, job.lease_owner, job.attempt),
        ).rowcount
        == 1
    )


def finish_job(
    conn: psycopg.Connection, job: Job, status: str, manifest: dict | None, error: dict | None, ttl_seconds: int
) -> bool:
    """completed (with its manifest) or failed (with an OperationOutcome); the files expire ttl from now."""
    return (
        conn.execute(
            "UPDATE export_jobs SET status = %s, manifest = %s, error = %s, lease_owner = NULL, lease_until = NULL,"
            " expires_at = now() + make_interval(secs => %s)"
            " WHERE id = %s AND lease_owner = %s AND attempt = %s AND status = 'running'",
            (
                status,
                Jsonb(manifest) if manifest is not None else None,
                Jsonb(error) if error is not None else None,
                ttl_seconds,
                job.id,
                job.lease_owner,
                job.attempt,
            ),
        ).rowcount
        == 1
    )


def expired_jobs(conn: psycopg.Connection, limit: int = 100) -> list[str]:
    """Expired jobs, removed from the queue; the caller removes their files."""
    return [
        row[0]
        for row in conn.execute(
            "DELETE FROM export_jobs WHERE id IN (SELECT id FROM export_jobs WHERE expires_at <= now()"
            " ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
            (limit,),
        )
    ]


def job_exists(conn: psycopg.Connection, id: str) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM export_jobs WHERE id = %s)", (id,)).fetchone()
    assert row is not None  # the query always returns one row
    return row[0]
