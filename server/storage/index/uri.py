"""URI index (R4 search.html#uri): exact match; `:below` is a prefix, `:above` the reverse."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

TABLE = "search_uri"
COLUMNS = ("param", "value")
CASTS = ("text", "text")


@dataclass(frozen=True)
class UriCriterion:
    param: str
    values: tuple[str, ...]  # OR-ed
    mode: str = "exact"  # exact | below | above


def condition(criterion: UriCriterion) -> tuple[sql.Composable, list]:
    if criterion.mode == "below":
        escaped = [v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for v in criterion.values]
        return sql.SQL(" OR ").join(sql.SQL("t.value LIKE %s") for _ in escaped), escaped
    if criterion.mode == "above":
        return sql.SQL(" OR ").join(sql.SQL("starts_with(%s, t.value)") for _ in criterion.values), list(
            criterion.values
        )
    return sql.SQL("t.value = ANY(%s)"), [list(criterion.values)]


SORT_EXPRESSION = "t.value"
SORT_TYPE = "text"
