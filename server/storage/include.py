"""_include and _revinclude (R4 search.html#include): resources referenced by, or referencing, a page
of matches. The caller passes only the types, and the patients, the guard allows."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from .patient_filter import PatientFilter, patient_condition
from .search import Match


@dataclass(frozen=True)
class Visible:
    """What the reader may see: readable types, each with the patient it is confined to (or None)."""

    patients: dict[str, PatientFilter]

    def condition(self, alias: str) -> tuple[sql.Composable, list]:
        parts, args = [], []
        row = sql.Identifier(alias)
        for resource_type, patient in self.patients.items():
            if patient is None:
                parts.append(sql.SQL("{}.resource_type = %s").format(row))
                args.append(resource_type)
            else:
                condition, condition_args = patient_condition(patient, sql.SQL("{}.patient_id").format(row))
                parts.append(sql.SQL("({}.resource_type = %s AND {})").format(row, condition))
                args += [resource_type, *condition_args]
        return sql.SQL(" OR ").join(parts) if parts else sql.SQL("false"), args


_SELECT = "SELECT DISTINCT x.seq, x.resource_type, x.id, x.content::text, x.patient_id FROM resources x"


def included(
    conn: psycopg.Connection,
    sources: list[int],
    source_type: str,
    param: str,
    target_type: str | None,
    visible: Visible,
) -> list[Match]:
    """Targets of the sources' references through param ("*": every reference parameter)."""
    visible_sql, visible_args = visible.condition("x")
    query = sql.SQL(
        _SELECT + " JOIN search_reference ref ON x.resource_type = ref.target_type AND x.id = ref.target_id"
        " WHERE ref.resource_seq = ANY(%s) AND ref.resource_type = %s AND (%s = '*' OR ref.param = %s)"
        " AND (%s::text IS NULL OR ref.target_type = %s) AND NOT x.deleted AND ({})"
    ).format(visible_sql)
    args = [sources, source_type, param, param, target_type, target_type, *visible_args]
    return [Match(row[0], row[1], row[2], row[3], (), row[4]) for row in conn.execute(query, args).fetchall()]


def revincluded(
    conn: psycopg.Connection,
    targets: list[tuple[str, str]],
    source_type: str,
    param: str,
    target_type: str | None,
    visible: Visible,
) -> list[Match]:
    """Resources of source_type whose param refers to one of the targets (type, id)."""
    visible_sql, visible_args = visible.condition("x")
    query = sql.SQL(
        _SELECT + " JOIN search_reference ref ON ref.resource_seq = x.seq"
        " JOIN unnest(%s::text[], %s::text[]) AS target(type, id)"
        "  ON ref.target_type = target.type AND ref.target_id = target.id"
        " WHERE ref.resource_type = %s AND (%s = '*' OR ref.param = %s)"
        " AND (%s::text IS NULL OR ref.target_type = %s) AND NOT x.deleted AND ({})"
    ).format(visible_sql)
    types, ids = [t for t, _ in targets], [i for _, i in targets]
    args = [types, ids, source_type, param, param, target_type, target_type, *visible_args]
    return [Match(row[0], row[1], row[2], row[3], (), row[4]) for row in conn.execute(query, args).fetchall()]


def visible_keys(conn: psycopg.Connection, keys: list[tuple[str, str]], visible: Visible) -> set[tuple[str, str]]:
    """Which of the (type, id) live resources the reader may see."""
    if not keys:
        return set()
    visible_sql, visible_args = visible.condition("x")
    query = sql.SQL(
        "SELECT x.resource_type, x.id FROM resources x JOIN unnest(%s::text[], %s::text[]) AS k(type, id)"
        " ON x.resource_type = k.type AND x.id = k.id WHERE NOT x.deleted AND ({})"
    ).format(visible_sql)
    rows = conn.execute(query, [[t for t, _ in keys], [i for _, i in keys], *visible_args]).fetchall()
    return {(row[0], row[1]) for row in rows}
