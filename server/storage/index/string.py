"""String index (R4 search.html#string): by default a case- and accent-insensitive starts-with;
`:exact` compares as written, `:contains` anywhere (trigram index). A row's part is the element of
a HumanName or Address its text comes from, so that `family` is searched in the rows of `name`."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

TABLE = "search_string"
COLUMNS = ("param", "normalized", "exact", "part")
CASTS = ("text", "text", "text", "text")


@dataclass(frozen=True)
class StringCriterion:
    param: str
    values: tuple[str, ...]  # OR-ed; normalized unless mode is "exact"
    mode: str = "starts"  # starts | exact | contains
    normalized: tuple[str, ...] = ()  # with "exact": the values normalized
    part: str | None = None  # only the rows of this element (SearchParam.part)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition(criterion: StringCriterion) -> tuple[sql.Composable, list]:
    if criterion.mode == "exact":  # through the normalized index: one index fewer to write
        return sql.SQL("t.normalized = ANY(%s) AND t.exact = ANY(%s)"), [
            list(criterion.normalized),
            list(criterion.values),
        ]
    if criterion.mode == "contains":
        patterns = [f"%{_escape_like(v)}%" for v in criterion.values]
    else:
        patterns = [f"{_escape_like(v)}%" for v in criterion.values]
    matches = sql.SQL("({})").format(sql.SQL(" OR ").join(sql.SQL("t.normalized LIKE %s") for _ in patterns))
    if criterion.mode == "contains":  # the trigram index's own predicate (migration 0005), so that it applies
        matches = sql.SQL("{} AND t.param NOT LIKE '%%:text'").format(matches)
    return matches, patterns


SORT_EXPRESSION = "t.normalized"
SORT_TYPE = "text"
