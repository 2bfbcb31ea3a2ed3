"""_include and _revinclude (R4 search.html#include): resources referenced by, or referencing, a page
of matches. The caller passes only the types, and the patients, the guard allows."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from . import audit_events
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


def included_by_audit_events(
    conn: psycopg.Connection, sources: list[int], params: list[str], target_type: str | None, visible: Visible
) -> list[Match]:
    """_include of AuditEvents (sources: their seqs): the targets their reference keys name through params."""
    visible_sql, visible_args = visible.condition("x")
    prefixes = [audit_events.key_prefix("t", param) for param in params]
    query = sql.SQL(
        _SELECT + " JOIN (SELECT split_part(k, chr(31), 3) AS type, split_part(k, chr(31), 4) AS id"
        "  FROM audit_events a, unnest(" + audit_events.KEYS.format("a") + ") AS k"
        "  WHERE a.seq = ANY(%s) AND k LIKE ANY(%s::text[])) AS t ON x.resource_type = t.type AND x.id = t.id"
        " WHERE (%s::text IS NULL OR t.type = %s) AND NOT x.deleted AND ({})"
    ).format(visible_sql)
    args = [sources, prefixes, target_type, target_type, *visible_args]
    return [Match(row[0], row[1], row[2], row[3], (), row[4]) for row in conn.execute(query, args).fetchall()]


def audit_events_referring(
    conn: psycopg.Connection, targets: list[tuple[str, str]], params: list[str], target_type: str | None
) -> list[Match]:
    """_revinclude of AuditEvents: those whose params refer to one of the targets (type, id)."""
    wanted = [
        audit_events.reference_key(param, type_, id)
        for param in params
        for type_, id in targets
        if target_type is None or type_ == target_type
    ]
    query = sql.SQL(
        "SELECT "
        + audit_events.select_columns("x")
        + " FROM audit_events x WHERE "
        + audit_events.KEYS.format("x")
        + " && %s::text[]"
    )
    return [Match(row[0], row[1], row[2], row[3], (), row[4]) for row in conn.execute(query, [wanted]).fetchall()]


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
