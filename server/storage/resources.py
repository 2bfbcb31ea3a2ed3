"""The resource store: current versions and history rows. Content goes in as JSON bytes and comes
back as the stored JSON text, never decoded here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from .index import delete_index_rows, index_ctes, index_rows_json, with_ctes
from .jsonb import raw_jsonb


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


_CURRENT = ("SELECT resource_type, id, version_id, last_updated, deleted, content::text, 'PUT', seq, patient_id"
            " FROM resources WHERE resource_type = %s AND id = %s")


def read_current(conn: psycopg.Connection, resource_type: str, id: str) -> Version | None:
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
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%b::text[]) AS k ORDER BY k",
                     (names,))


def read_version(conn: psycopg.Connection, resource_type: str, id: str, version_id: int) -> Version | None:
    row = conn.execute(
        "SELECT resource_type, id, version_id, last_updated, deleted, content::text, method, NULL, patient_id"
        " FROM resource_history WHERE resource_type = %s AND id = %s AND version_id = %s",
        (resource_type, id, version_id)).fetchone()
    return _version(row)


_CURRENT_ROW = (
    "INSERT INTO resources AS r (resource_type, id, version_id, last_updated, deleted, patient_id, content)"
    " VALUES (%(resource_type)s, %(id)s, %(version_id)s, %(last_updated)s, false, %(patient_id)s, %(content)s)"
    " ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,"
    "  last_updated = excluded.last_updated, deleted = false, patient_id = excluded.patient_id,"
    "  content = excluded.content RETURNING seq")
_HISTORY_ROW = (
    "INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, patient_id, content)"
    " VALUES (%(resource_type)s, %(id)s, %(version_id)s, %(last_updated)s, false, %(method)s, %(patient_id)s,"
    " %(content)s)")
# Constant texts, so that psycopg prepares them on each connection after a few uses.
_WRITE = {replaces: with_ctes([_CURRENT_ROW, _HISTORY_ROW, *index_ctes("SELECT seq FROM s0", replaces)],
                              "SELECT seq FROM s0")
          for replaces in (False, True)}


def write_version(conn: psycopg.Connection, *, resource_type: str, id: str, version_id: int,
                  last_updated: datetime, content: bytes, patient_id: str | None, method: str,
                  index_rows: dict[str, list[tuple]], replaces: bool = True) -> int:
    """Store a new current version with its history row and index rows, in one statement; return
    its seq. `replaces`: a row for this resource may exist, so its old index rows go first."""
    return conn.execute(_WRITE[replaces], {
        "resource_type": resource_type, "id": id, "version_id": version_id, "last_updated": last_updated,
        "patient_id": patient_id, "method": method, "content": raw_jsonb(content),
        "index_rows": index_rows_json(index_rows)}).fetchone()[0]


def write_deletion(conn: psycopg.Connection, current: Version, version_id: int, last_updated: datetime) -> None:
    """Mark the resource deleted; history keeps a deletion version (R4 http.html#delete)."""
    conn.execute("UPDATE resources SET version_id = %s, last_updated = %s, deleted = true, content = NULL"
                 " WHERE resource_type = %s AND id = %s",
                 (version_id, last_updated, current.resource_type, current.id))
    _insert_history(conn, current.resource_type, current.id, version_id, last_updated, True, "DELETE",
                    current.patient_id, None)
    delete_index_rows(conn, current.seq)


def _insert_history(conn, resource_type, id, version_id, last_updated, deleted, method, patient_id, content):
    conn.execute(
        "INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, patient_id, content)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (resource_type, id, version_id, last_updated, deleted, method, patient_id,
         None if content is None else raw_jsonb(content)))
