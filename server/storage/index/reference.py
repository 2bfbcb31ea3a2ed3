"""Reference index: the type and id (or absolute URL) each reference points at (R4 search.html#reference)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

TABLE = "search_reference"
COLUMNS = ("param", "target_type", "target_id")
CASTS = ("text", "text", "text")


@dataclass(frozen=True)
class ReferenceValue:
    target_type: str | None  # None: any of the parameter's target types
    target_id: str  # a local id, or the absolute URL of an external reference


@dataclass(frozen=True)
class ReferenceCriterion:
    param: str
    values: tuple[ReferenceValue, ...]  # OR-ed


def condition(criterion: ReferenceCriterion) -> tuple[sql.Composable, list]:
    parts, args = [], []
    for value in criterion.values:
        if value.target_type is None:
            parts.append(sql.SQL("t.target_id = %s"))
            args.append(value.target_id)
        else:
            parts.append(sql.SQL("(t.target_id = %s AND t.target_type = %s)"))
            args += [value.target_id, value.target_type]
    return sql.SQL(" OR ").join(parts), args


SORT_EXPRESSION = "t.target_id"
SORT_TYPE = "text"
