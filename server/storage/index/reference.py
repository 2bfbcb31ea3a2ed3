"""Reference index: the type and id (or absolute URL) each reference points at (R4 search.html#reference)."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

DELETE_ROWS = "DELETE FROM search_reference WHERE resource_seq = %s"


@dataclass(frozen=True)
class ReferenceValue:
    target_type: str | None  # None: any of the parameter's target types
    target_id: str  # a local id, or the absolute URL of an external reference


@dataclass(frozen=True)
class ReferenceCriterion:
    param: str
    values: tuple[ReferenceValue, ...]  # OR-ed


def insert_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                rows: list[tuple[str, str | None, str]]) -> None:
    params, types, ids = zip(*rows)
    conn.execute(
        "INSERT INTO search_reference (resource_seq, resource_type, param, target_type, target_id, patient_id)"
        " SELECT %s, %s, p, tt, ti, %s FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(p, tt, ti)",
        (seq, resource_type, patient_id, list(params), list(types), list(ids)))


def condition(resource_type: str, criterion: ReferenceCriterion) -> tuple[sql.Composable, list]:
    parts, args = [], [resource_type, criterion.param]
    for value in criterion.values:
        if value.target_type is None:
            parts.append(sql.SQL("t.target_id = %s"))
            args.append(value.target_id)
        else:
            parts.append(sql.SQL("(t.target_id = %s AND t.target_type = %s)"))
            args += [value.target_id, value.target_type]
    return (sql.SQL("r.seq IN (SELECT t.resource_seq FROM search_reference t"
                    " WHERE t.resource_type = %s AND t.param = %s AND ({}))").format(sql.SQL(" OR ").join(parts)),
            args)
