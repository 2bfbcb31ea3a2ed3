"""History queries (R4 http.html#history): newest first, keyset-paged on history_seq."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from .patient_filter import PatientFilter, patient_condition
from .resources import Version


@dataclass(frozen=True)
class HistoryQuery:
    resource_types: tuple[str, ...]  # the types the caller may see
    id: str | None = None  # instance history
    since: datetime | None = None
    before_seq: int | None = None  # paging cursor
    count: int = 20
    compartment_patient: PatientFilter = None


def history(conn: psycopg.Connection, query: HistoryQuery) -> tuple[list[tuple[int, Version, bool]], int]:
    """Up to count+1 versions (history_seq, Version, created), newest first, and the total number of versions.
    `created`: the version began the resource's life (its first, or the first after a deletion), so the
    interaction that wrote it answered 201 whatever its method (R4 http.html#update: update as create)."""
    parts: list[sql.Composable] = [sql.SQL("h.resource_type = ANY(%s)")]
    args: list[Any] = [list(query.resource_types)]
    if query.id is not None:
        parts.append(sql.SQL("h.id = %s"))
        args.append(query.id)
    if query.since is not None:
        parts.append(sql.SQL("h.last_updated >= %s"))
        args.append(query.since)
    if query.compartment_patient is not None:
        condition, condition_args = patient_condition(query.compartment_patient, sql.SQL("h.patient_id"))
        parts.append(condition)
        args += condition_args
    where = sql.SQL(" AND ").join(parts)
    page_where, page_args = where, args
    if query.before_seq is not None:
        page_where, page_args = sql.SQL("{} AND h.history_seq < %s").format(where), args + [query.before_seq]
    rows = conn.execute(
        sql.SQL(
            "SELECT h.history_seq, h.resource_type, h.id, h.version_id, h.last_updated, h.deleted,"
            " h.content::text, h.method, NULL, h.patient_id,"
            " h.version_id = 1 OR EXISTS (SELECT FROM resource_history p WHERE p.resource_type = h.resource_type"
            " AND p.id = h.id AND p.version_id = h.version_id - 1 AND p.deleted)"
            " FROM resource_history h WHERE {}"
            " ORDER BY h.history_seq DESC LIMIT %s"
        ).format(page_where),
        page_args + [query.count + 1],
    ).fetchall()
    row = conn.execute(sql.SQL("SELECT count(*) FROM resource_history h WHERE {}").format(where), args).fetchone()
    assert row is not None  # the query always returns one row
    total = row[0]
    return [(row[0], Version(*row[1:-1]), row[-1]) for row in rows], total
