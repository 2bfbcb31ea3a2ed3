"""Prefix comparisons between a search range [low, high) and a target range (t.low, t.high), shared
by dates and quantities (R4 search.html#prefix)."""

from __future__ import annotations

from psycopg import sql

# R4: eq -- the search range fully contains the target range; gt -- the range above the search
# value intersects the target; ge -- gt or eq; sa -- the target starts after the search range ends.
# In eq, "t.low <= high" follows from the rest (t.low <= t.high) but bounds the index scan on
# (param, low) from both sides: without it, birthdate=1966-12-08 reads every later birthdate.
RANGE_CONDITIONS = {
    "eq": ("(t.low >= %s AND t.low <= %s AND t.high <= %s)", ("low", "high", "high")),
    "ne": ("NOT (t.low >= %s AND t.high <= %s)", ("low", "high")),
    "gt": ("t.high > %s", ("high",)),
    "lt": ("t.low < %s", ("low",)),
    "ge": ("(t.high > %s OR (t.low >= %s AND t.high <= %s))", ("high", "low", "high")),
    "le": ("(t.low < %s OR (t.low >= %s AND t.high <= %s))", ("low", "low", "high")),
    "sa": ("t.low >= %s", ("high",)),
    "eb": ("t.high <= %s", ("low",)),
    "ap": ("(t.low < %s AND t.high > %s)", ("high", "low")),  # bounds already widened by the caller
}


def range_condition(prefix: str, low, high) -> tuple[sql.Composable, list]:
    template, names = RANGE_CONDITIONS[prefix]
    bounds = {"low": low, "high": high}
    return sql.SQL(template), [bounds[name] for name in names]


def any_of(parts: list[tuple[sql.Composable, list]]) -> tuple[sql.Composable, list]:
    args: list = []
    for _, part_args in parts:
        args += part_args
    return sql.SQL(" OR ").join(sql.SQL("({})").format(part) for part, _ in parts), args
