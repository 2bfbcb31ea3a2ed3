"""The bulk import fast path: many resources per statement (INSERT ... SELECT FROM unnest), one
transaction per batch. Same rows as resources.write_version writes one at a time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from .index import INDEX_TYPES
from .resources import _raw_json


@dataclass(frozen=True)
class BulkVersion:
    resource_type: str
    id: str
    version_id: int
    content: bytes
    patient_id: str | None
    index_rows: dict[str, list[tuple]]


def lock_and_read_versions(conn: psycopg.Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Take the per-resource write locks (same keys as resources.lock_current, in a fixed order so
    that concurrent writers cannot deadlock) and return the current version of those that exist."""
    if not keys:
        return {}
    names = sorted({f"{t}/{i}" for t, i in keys})
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%b::text[]) AS k ORDER BY k",
                 (names,))
    types, ids = zip(*keys)
    rows = conn.execute(
        "SELECT r.resource_type, r.id, r.version_id FROM resources r"
        " JOIN unnest(%b::text[], %b::text[]) AS t(resource_type, id) ON r.resource_type = t.resource_type AND r.id = t.id",
        (list(types), list(ids))).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}


def write_versions(conn: psycopg.Connection, versions: list[BulkVersion], last_updated: datetime,
                   replaced: bool) -> None:
    """Store the versions as current, with history and index rows. `replaced`: some existed before,
    so their old index rows go first."""
    if not versions:
        return
    types = [v.resource_type for v in versions]
    ids = [v.id for v in versions]
    version_ids = [v.version_id for v in versions]
    patients = [v.patient_id for v in versions]
    contents = [_raw_json(v.content) for v in versions]
    rows = conn.execute(
        "INSERT INTO resources AS r (resource_type, id, version_id, last_updated, deleted, patient_id, content)"
        " SELECT t.rt, t.i, t.v, %s, false, t.p, t.c"
        " FROM unnest(%b::text[], %b::text[], %b::int[], %b::text[], %b::jsonb[]) AS t(rt, i, v, p, c)"
        " ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,"
        "  last_updated = excluded.last_updated, deleted = false, patient_id = excluded.patient_id,"
        "  content = excluded.content"
        " RETURNING resource_type, id, seq",
        (last_updated, types, ids, version_ids, patients, contents)).fetchall()
    seqs = {(row[0], row[1]): row[2] for row in rows}
    conn.execute(
        "INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, patient_id, content)"
        " SELECT t.rt, t.i, t.v, %s, false, 'PUT', t.p, t.c"
        " FROM unnest(%b::text[], %b::text[], %b::int[], %b::text[], %b::jsonb[]) AS t(rt, i, v, p, c)",
        (last_updated, types, ids, version_ids, patients, contents))
    ordered = [seqs[(v.resource_type, v.id)] for v in versions]
    if replaced:
        for module in INDEX_TYPES.values():
            conn.execute(sql.SQL("DELETE FROM {} WHERE resource_seq = ANY(%s)").format(sql.Identifier(module.TABLE)),
                         (ordered,))
    _insert_index_rows(conn, versions, ordered)


def _insert_index_rows(conn: psycopg.Connection, versions: list[BulkVersion], seqs: list[int]) -> None:
    for search_type, module in INDEX_TYPES.items():
        rows = [(seq, v.resource_type, v.patient_id, *row)
                for v, seq in zip(versions, seqs) for row in v.index_rows.get(search_type, ())]
        if not rows:
            continue
        arrays = [list(column) for column in zip(*rows)]
        names = sql.SQL(", ").join(sql.Identifier(c) for c in module.COLUMNS)
        casts = ("bigint", "text", "text", *module.CASTS)
        unnest = sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(cast)) for cast in casts)
        conn.execute(sql.SQL("INSERT INTO {} (resource_seq, resource_type, patient_id, {}) SELECT * FROM unnest({})")
                     .format(sql.Identifier(module.TABLE), names, unnest), arrays)
