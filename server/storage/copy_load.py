"""The fast path for loading many new resources at once: seqs reserved in one query, resources and
history inserted from arrays, index rows streamed with COPY. The caller has validated everything."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from .index import INDEX_TYPES


@dataclass(frozen=True)
class NewResource:
    resource_type: str
    id: str
    last_updated: datetime
    content: str  # JSON text with id and meta set
    patient_id: str | None
    index_rows: dict[str, list[tuple]]


def load_new_resources(conn: psycopg.Connection, resources: list[NewResource]) -> None:
    """Insert version 1 of each resource with its history row and index rows, in the caller's transaction."""
    if not resources:
        return
    seqs = [row[0] for row in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('resources', 'seq')) FROM generate_series(1, %s)",
        (len(resources),)).fetchall()]
    _copy(conn, "resources", ("seq", "resource_type", "id", "version_id", "last_updated", "deleted", "patient_id",
                              "content"),
          ((seq, r.resource_type, r.id, 1, r.last_updated, False, r.patient_id, r.content)
           for seq, r in zip(seqs, resources)))
    _copy(conn, "resource_history", ("resource_type", "id", "version_id", "last_updated", "deleted", "method",
                                     "patient_id", "content"),
          ((r.resource_type, r.id, 1, r.last_updated, False, "POST", r.patient_id, r.content) for r in resources))
    for module in INDEX_TYPES.values():
        _copy(conn, module.TABLE, ("resource_seq", "resource_type", "patient_id", *module.COLUMNS),
              ((seq, r.resource_type, r.patient_id, *row)
               for seq, r in zip(seqs, resources) for row in r.index_rows.get(module.SEARCH_TYPE, ())))


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows) -> None:
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)) as copy:
        for row in rows:
            copy.write_row(row)
