"""Date index (R4 search.html#date): each value is stored as the range [low, high) it covers; a
search value of any precision is a range too, and prefixes compare the two ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg import sql

from .ranges import any_of, range_condition

TABLE = "search_date"
COLUMNS = ("param", "low", "high")
CASTS = ("text", "timestamptz", "timestamptz")


@dataclass(frozen=True)
class DateValue:
    prefix: str  # eq ne gt lt ge le sa eb ap
    low: datetime  # inclusive
    high: datetime  # exclusive


@dataclass(frozen=True)
class DateCriterion:
    param: str
    values: tuple[DateValue, ...]  # OR-ed


def approximate(value: DateValue) -> tuple[datetime, datetime]:
    """R4 leaves "ap" to the server: 10% of the distance to now, at least the value's own precision."""
    margin = max(abs(datetime.now(UTC) - value.low) / 10, value.high - value.low)
    return value.low - margin, value.high + margin


def condition(criterion: DateCriterion) -> tuple[sql.Composable, list]:
    parts = []
    for value in criterion.values:
        low, high = approximate(value) if value.prefix == "ap" else (value.low, value.high)
        parts.append(range_condition(value.prefix, low, high))
    return any_of(parts)


# A point in time (resources.last_updated) compared with a search range [low, high).
_POINT_CONDITIONS = {
    "eq": ("({col} >= %s AND {col} < %s)", ("low", "high")),
    "ne": ("({col} < %s OR {col} >= %s)", ("low", "high")),
    "gt": ("{col} >= %s", ("high",)),
    "sa": ("{col} >= %s", ("high",)),
    "lt": ("{col} < %s", ("low",)),
    "eb": ("{col} < %s", ("low",)),
    "ge": ("{col} >= %s", ("low",)),
    "le": ("{col} < %s", ("high",)),
}


def point_condition(column: str, criterion: DateCriterion) -> tuple[sql.Composable, list]:
    parts: list[tuple[sql.Composable, list]] = []
    for value in criterion.values:
        prefix, bounds = value.prefix, {"low": value.low, "high": value.high}
        if prefix == "ap":
            prefix, (bounds["low"], bounds["high"]) = "eq", approximate(value)
        template, names = _POINT_CONDITIONS[prefix]
        parts.append((sql.SQL(template.format(col=column)), [bounds[name] for name in names]))
    return any_of(parts)


SORT_EXPRESSION = "t.low"
SORT_TYPE = "timestamptz"
