"""Token index: (system, code) pairs from Coding, CodeableConcept, Identifier, ContactPoint, code,
boolean (R4 search.html#token). `:of-type` and reference `:identifier` values are token rows too,
under the parameter name with its modifier."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

TABLE = "search_token"
COLUMNS = ("param", "system", "code")
CASTS = ("text", "text", "text")
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


def _value_condition(value: TokenValue) -> tuple[sql.Composable, list]:
    if value.code is None:
        return sql.SQL("t.system = %s"), [value.system]
    if value.system is ANY_SYSTEM:
        return sql.SQL("t.code = %s"), [value.code]
    if value.system is None:
        return sql.SQL("(t.code = %s AND t.system IS NULL)"), [value.code]
    return sql.SQL("(t.code = %s AND t.system = %s)"), [value.code, value.system]


def condition(criterion: TokenCriterion) -> tuple[sql.Composable, list]:
    parts, args = [], []
    for value in criterion.values:
        part, part_args = _value_condition(value)
        parts.append(part)
        args += part_args
    return sql.SQL(" OR ").join(parts), args


SORT_EXPRESSION = "t.code"
SORT_TYPE = "text"
