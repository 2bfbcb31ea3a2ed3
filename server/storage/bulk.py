"""The bulk import fast path: COPY into session staging tables, then one INSERT ... SELECT per
table, one transaction per batch. Writes the same rows as writes.store does in one statement for a
few. The COPY text is prepared by the importing workers (encode_* functions, no database).
Called by storage/writes.py only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from .index import INDEX_TYPES

_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class BulkVersion:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    content: bytes  # JSON
    patient_id: str | None
    index_copy: dict[str, bytes]  # index table -> COPY text lines (resource_type, id, patient_id, columns...)
    method: str = "PUT"  # what history records (POST for creates)


def _field(value) -> str:
    """PostgreSQL COPY text format (sql-copy.html#File Formats)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def encode_index_rows(
    resource_type: str, id: str, patient_id: str | None, rows_by_type: dict[str, list[tuple]]
) -> dict[str, bytes]:
    encoded = {}
    for search_type, rows in rows_by_type.items():
        if rows:
            prefix = f"{_field(resource_type)}\t{_field(id)}\t{_field(patient_id)}\t"
            encoded[INDEX_TYPES[search_type].TABLE] = "".join(
                prefix + "\t".join(_field(v) for v in row) + "\n" for row in rows
            ).encode()
    return encoded


def _stage(conn: psycopg.Connection, name: str, columns: str, data: bytes) -> None:
    conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
            sql.Identifier(name), sql.SQL(columns)
        )
    )
    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(name))) as copy:
        copy.write(data)


def write_versions(conn: psycopg.Connection, versions: list[BulkVersion], replaced: bool) -> None:
    """Store the versions as current, with history and index rows. `replaced`: some existed before,
    so their old index rows go first."""
    if not versions:
        return
    lines = b"".join(
        f"{_field(v.resource_type)}\t{_field(v.id)}\t{v.version_id}\t{_field(v.last_updated)}\t"
        f"{_field(v.patient_id)}\t{_field(v.method)}\t".encode()
        + v.content.replace(b"\\", b"\\\\")
        + b"\n"
        for v in versions
    )
    _stage(
        conn,
        "bulk_versions",
        "resource_type text, id text, version_id int, last_updated timestamptz,"
        " patient_id text, method text, content jsonb",
        lines,
    )
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bulk_seqs (resource_type text, id text, seq bigint) ON COMMIT DELETE ROWS"
    )
    # the seqs land in a small table, so index rows find theirs by a hash join, not a probe each
    conn.execute(
        "WITH written AS (INSERT INTO resources AS r"
        "  (resource_type, id, version_id, last_updated, deleted, patient_id, content)"
        "  SELECT resource_type, id, version_id, last_updated, false, patient_id, content FROM bulk_versions"
        "  ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,"
        "   last_updated = excluded.last_updated, deleted = false, patient_id = excluded.patient_id,"
        "   content = excluded.content"
        "  RETURNING resource_type, id, seq)"
        " INSERT INTO bulk_seqs SELECT resource_type, id, seq FROM written"
    )
    conn.execute(
        "INSERT INTO resource_history"
        " (resource_type, id, version_id, last_updated, deleted, method, patient_id, content)"
        " SELECT resource_type, id, version_id, last_updated, false, method, patient_id, content FROM bulk_versions"
    )
    seqs = sql.SQL("SELECT seq FROM bulk_seqs")
    for module in INDEX_TYPES.values():
        if replaced:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE resource_seq IN ({})").format(sql.Identifier(module.TABLE), seqs)
            )
        _insert_index_rows(conn, module, b"".join(v.index_copy.get(module.TABLE, b"") for v in versions))


def _insert_index_rows(conn: psycopg.Connection, module, data: bytes) -> None:
    if not data:
        return
    stage = f"bulk_{module.TABLE}"
    typed = ", ".join(f"{c} {cast}" for c, cast in zip(module.COLUMNS, module.CASTS, strict=False))
    _stage(conn, stage, f"resource_type text, id text, patient_id text, {typed}", data)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in module.COLUMNS)
    selected = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in module.COLUMNS)
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (resource_seq, resource_type, patient_id, {})"
            " SELECT r.seq, s.resource_type, s.patient_id, {} FROM {} s JOIN bulk_seqs r"
            " ON r.resource_type = s.resource_type AND r.id = s.id"
        ).format(sql.Identifier(module.TABLE), columns, selected, sql.Identifier(stage))
    )
