"""Reading and locking stored versions: content comes back as the stored JSON text, never decoded
here (storage/writes.py writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from . import audit_events


@dataclass(frozen=True)
class Version:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    content: str | None
    method: str = "PUT"
    seq: int | None = None
    patient_id: str | None = None


def _version(row) -> Version | None:
    if row is None:
        return None
    return Version(*row)


_CURRENT = (
    "SELECT resource_type, id, version_id, last_updated, deleted, content::text, 'PUT', seq, patient_id"
    " FROM resources WHERE resource_type = %s AND id = %s"
)


def read_current(conn: psycopg.Connection, resource_type: str, id: str) -> Version | None:
    if resource_type == audit_events.AUDIT_TYPE:
        return _version(audit_events.read_current(conn, id))
    return _version(conn.execute(_CURRENT, (resource_type, id)).fetchone())


def lock_current(conn: psycopg.Connection, resource_type: str, id: str) -> Version | None:
    """Serialize writers of one resource for this transaction, including its creation under a new id."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{resource_type}/{id}",))
    return read_current(conn, resource_type, id)


def lock_resources(conn: psycopg.Connection, keys: list[tuple[str, str]]) -> None:
    """lock_current's locks for several resources, taken in one fixed order so that two writers of
    the same resources cannot deadlock on them."""
    names = sorted({f"{resource_type}/{id}" for resource_type, id in keys})
    if names:
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%b::text[]) AS k ORDER BY k", (names,)
        )


def read_version(conn: psycopg.Connection, resource_type: str, id: str, version_id: int) -> Version | None:
    row = conn.execute(
        "SELECT resource_type, id, version_id, last_updated, deleted, content::text, method, NULL, patient_id"
        " FROM resource_history WHERE resource_type = %s AND id = %s AND version_id = %s",
        (resource_type, id, version_id),
    ).fetchone()
    return _version(row)


def lock_and_read_versions(conn: psycopg.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Take the per-resource write locks (same keys as resources.lock_current, in a fixed order so
    that concurrent writers cannot deadlock) and return the current version of those that exist."""
    if not keys:
        return {}
    lock_resources(conn, keys)
    types, ids = zip(*keys, strict=False)
    rows = conn.execute(
        "SELECT r.resource_type, r.id, r.version_id FROM resources r JOIN unnest(%b::text[], %b::text[])"
        " AS t(resource_type, id) ON r.resource_type = t.resource_type AND r.id = t.id",
        (list(types), list(ids)),
    ).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}
