"""Token index: (system, code) pairs from Coding, CodeableConcept, Identifier, code, boolean, id
(R4 search.html#token)."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

DELETE_ROWS = "DELETE FROM search_token WHERE resource_seq = %s"
ANY_SYSTEM = object()  # `code` alone matches whatever the system; `|code` means no system


@dataclass(frozen=True)
class TokenValue:
    system: object  # a str, None for "no system", or ANY_SYSTEM
    code: str | None  # None for `system|`: any code in that system


@dataclass(frozen=True)
class TokenCriterion:
    param: str
    values: tuple[TokenValue, ...]  # OR-ed
    negated: bool = False  # :not


def insert_rows(conn: psycopg.Connection, seq: int, resource_type: str, patient_id: str | None,
                rows: list[tuple[str, str | None, str]]) -> None:
    params, systems, codes = zip(*rows)
    conn.execute(
        "INSERT INTO search_token (resource_seq, resource_type, param, system, code, patient_id)"
        " SELECT %s, %s, p, s, c, %s FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(p, s, c)",
        (seq, resource_type, patient_id, list(params), list(systems), list(codes)))


def _value_condition(value: TokenValue) -> tuple[sql.Composable, list]:
    if value.code is None:
        return sql.SQL("t.system = %s"), [value.system]
    if value.system is ANY_SYSTEM:
        return sql.SQL("t.code = %s"), [value.code]
    if value.system is None:
        return sql.SQL("(t.code = %s AND t.system IS NULL)"), [value.code]
    return sql.SQL("(t.code = %s AND t.system = %s)"), [value.code, value.system]


def condition(resource_type: str, criterion: TokenCriterion) -> tuple[sql.Composable, list]:
    """A condition on `r.seq` that is true when the resource has a matching token."""
    parts, args = [], [resource_type, criterion.param]
    for value in criterion.values:
        part, part_args = _value_condition(value)
        parts.append(part)
        args += part_args
    exists = sql.SQL("r.seq IN (SELECT t.resource_seq FROM search_token t"
                     " WHERE t.resource_type = %s AND t.param = %s AND ({}))").format(sql.SQL(" OR ").join(parts))
    # R4 search.html#modifiers: :not also matches resources that have no value at all
    return (sql.SQL("NOT ({})").format(exists) if criterion.negated else exists), args
