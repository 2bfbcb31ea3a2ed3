"""Storing new versions: the current row, its history row and its index rows. Only the write path
(interactions/write_path.py) calls this module (an import-linter contract keeps it so).

A few versions go in one statement (data-modifying CTEs: one round trip, and in autocommit its
own transaction); many go through COPY (storage/bulk.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import psycopg

from . import audit_events, bulk
from .index import delete_ctes, index_ctes, index_rows_json, with_ctes
from .jsonb import raw_jsonb

FEW = 8  # up to this many versions: one statement; beyond, COPY


@dataclass(frozen=True)
class StoredVersion:
    """One new version as storage writes it. `index_rows` by search type, or already encoded (`index_copy`: for
    COPY, by the import's workers; an AuditEvent's keys, audit_events.encoded); `seq` of the current row, for a
    deletion."""

    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    content: bytes | None  # JSON; None for a deletion
    patient_id: str | None
    method: str
    index_rows: dict | None = None
    index_copy: dict | None = None
    replaces: bool = True  # a row for this resource may exist: its old index rows go first
    seq: int | None = None

    @property
    def deleted(self) -> bool:
        return self.content is None


_CURRENT_ROW = (
    "INSERT INTO resources AS r (resource_type, id, version_id, last_updated, deleted, patient_id, content)"
    " VALUES (%(resource_type)s, %(id)s, %(version_id)s, %(last_updated)s, false, %(patient_id)s, %(content)s)"
    " ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,"
    "  last_updated = excluded.last_updated, deleted = false, patient_id = excluded.patient_id,"
    "  content = excluded.content RETURNING seq"
)
_DELETED_ROW = (
    "UPDATE resources SET version_id = %(version_id)s, last_updated = %(last_updated)s, deleted = true,"
    " content = NULL WHERE seq = %(seq)s::bigint RETURNING seq"
)
_HISTORY_ROW = (
    "INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, patient_id, content)"
    " VALUES (%(resource_type)s, %(id)s, %(version_id)s, %(last_updated)s, %(deleted)s, %(method)s, %(patient_id)s,"
    " %(content)s)"
)
_PARAMETER = re.compile(r"%\((\w+)\)s")


def _is_audit(version: StoredVersion) -> bool:
    return version.resource_type == audit_events.AUDIT_TYPE


def _shape(version: StoredVersion) -> str:
    """audit (an AuditEvent: its own table, no history), delete, replace or new."""
    if _is_audit(version):
        return "audit"
    return "delete" if version.deleted else "replace" if version.replaces else "new"


def _ctes(shape: str, number: int, first: int) -> list[str]:
    """The CTEs of one version; its parameters suffixed with its number, its seq read from CTE s<first>."""
    if shape == "audit":
        statements = [audit_events.INSERT_ROW, audit_events.INSERT_SHAPE]
    elif shape == "delete":
        statements = [_DELETED_ROW, _HISTORY_ROW, *delete_ctes("%(seq)s::bigint")]
    else:
        statements = [_CURRENT_ROW, _HISTORY_ROW, *index_ctes(f"SELECT seq FROM s{first}", shape == "replace")]
    return [_PARAMETER.sub(lambda m: f"%({m.group(1)}_{number})s", statement) for statement in statements]


@lru_cache(maxsize=256)
def _statement(shapes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Constant text per shape, so that psycopg prepares it on each connection after a few uses; in
    PostgreSQL's own placeholders ($1, ...), with the parameter names in their order. psycopg converts
    %(name)s placeholders on every execution of a statement over 4,096 characters (a write and its
    AuditEvent), which cost a tenth of a create's CPU; a RawCursor takes the converted text as it is."""
    names: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        return names.setdefault(match.group(1), f"${len(names) + 1}")

    text = _PARAMETER.sub(placeholder, _named_statement(shapes)).replace("%%", "%")
    return text, tuple(names)


def _named_statement(shapes: tuple[str, ...]) -> str:
    statements: list[str] = []
    for number, shape in enumerate(shapes):
        statements += _ctes(shape, number, len(statements))
    firsts, offset = [], 0
    for number, shape in enumerate(shapes):
        firsts.append(f"(SELECT seq FROM s{offset})")
        offset += len(_ctes(shape, number, offset))
    return with_ctes(statements, "SELECT " + ", ".join(firsts))


def _content(version: StoredVersion) -> bytes:
    """The JSON of a version that is no deletion (only deletions have none)."""
    assert version.content is not None
    return version.content


def _audit_row(version: StoredVersion) -> tuple[tuple, audit_events.Shape | None]:
    """(id, last_updated, recorded, keys, content, shape completing it) of an AuditEvent and the shape it names
    (storage/audit_events.py)."""
    recorded, keys, shape = audit_events.row_values(version.index_rows, version.index_copy, version.last_updated)
    completes = shape.completes if shape is not None else None
    return (version.id, version.last_updated, recorded, keys, _content(version).decode(), completes), shape


def _append_audit(conn: psycopg.Connection, versions: list[StoredVersion]) -> None:
    rows = [_audit_row(v) for v in versions]
    audit_events.append(conn, [row for row, _ in rows], [shape for _, shape in rows])


def _parameters(version: StoredVersion, number: int) -> dict:
    if _is_audit(version):
        (id, last_updated, recorded, keys, content, completes), shape = _audit_row(version)
        values = {
            "id": id,
            "last_updated": last_updated,
            "recorded": recorded,
            "keys": keys,
            "content": content,
            "shape": completes,
        }
        values.update(audit_events.shape_parameters(shape))
        return {f"{name}_{number}": value for name, value in values.items()}
    values = {
        "resource_type": version.resource_type,
        "id": version.id,
        "version_id": version.version_id,
        "last_updated": version.last_updated,
        "patient_id": version.patient_id,
        "method": version.method,
        "deleted": version.deleted,
        "content": None if version.deleted else raw_jsonb(_content(version)),
    }
    if version.deleted:
        values["seq"] = version.seq
    else:
        values["index_rows"] = index_rows_json(version.index_rows or {})
    return {f"{name}_{number}": value for name, value in values.items()}


def store(conn: psycopg.Connection, versions: list[StoredVersion]) -> list[int | None]:
    """Write the versions (distinct resources); return their seqs (None for those written by COPY)."""
    live = [v for v in versions if not v.deleted]
    if len(versions) <= FEW and all(v.index_rows is not None or _is_audit(v) for v in live):
        return _store_in_one_statement(conn, versions)
    audits = [v for v in versions if _is_audit(v)]
    if len(audits) == len(versions):  # the trail's buffered AuditEvents: one COPY, no staging
        _append_audit(conn, audits)
        return [None] * len(versions)
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        # COPY stages in temporary tables that are emptied at each commit; writes and their AuditEvents commit together
        with conn.transaction():
            return store(conn, versions)
    if audits:
        others = iter(store(conn, [v for v in versions if not _is_audit(v)]))
        _append_audit(conn, audits)
        return [None if _is_audit(v) else next(others) for v in versions]
    seqs = _store_in_one_statement(conn, [v for v in versions if v.deleted]) if len(live) < len(versions) else []
    bulk.write_versions(conn, [_for_copy(v) for v in live], replaced=any(v.replaces for v in live))
    deleted = iter(seqs)
    return [next(deleted) if v.deleted else None for v in versions]


def _store_in_one_statement(conn: psycopg.Connection, versions: list[StoredVersion]) -> list[int | None]:
    if not versions:
        return []
    parameters: dict = {}
    for number, version in enumerate(versions):
        parameters.update(_parameters(version, number))
    text, names = _statement(tuple(_shape(v) for v in versions))
    with psycopg.RawCursor(conn) as cursor:
        row = cursor.execute(text, [parameters[name] for name in names]).fetchone()
    assert row is not None  # the statement selects one row: the seq of each version
    return list(row)


def _for_copy(version: StoredVersion) -> bulk.BulkVersion:
    rows = version.index_copy
    if rows is None:
        rows = bulk.encode_index_rows(version.resource_type, version.id, version.patient_id, version.index_rows or {})
    return bulk.BulkVersion(
        version.resource_type,
        version.id,
        version.version_id,
        version.last_updated,
        _content(version),
        version.patient_id,
        rows,
        version.method,
    )


_REPLACE_INDEX = with_ctes(index_ctes("%(seq)s::bigint", replace=True), "SELECT 1")


def replace_index_rows(
    conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None, rows_by_type: dict[str, list[tuple]]
) -> None:
    """Reindex one stored version: its compartment key and every index row recomputed."""
    conn.execute(
        "UPDATE resources SET patient_id = %s WHERE seq = %s AND patient_id IS DISTINCT FROM %s",
        (patient_id, seq, patient_id),
    )
    conn.execute(
        _REPLACE_INDEX,
        {
            "seq": seq,
            "resource_type": resource_type,
            "patient_id": patient_id,
            "index_rows": index_rows_json(rows_by_type),
        },
    )


def encode_for_copy(resource_type: str, id: str, patient_id: str | None, rows: dict) -> dict[str, bytes]:
    """Index rows as COPY text, for a version that COPY will write (done by import workers)."""
    return bulk.encode_index_rows(resource_type, id, patient_id, rows)
