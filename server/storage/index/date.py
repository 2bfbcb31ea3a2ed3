"""Date conditions. A search value is a range [low, high) from its precision; prefixes compare it
with the target's range (R4 search.html#date). For now the only date index is the
resources.last_updated column (an instant, so its range is a point)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql


@dataclass(frozen=True)
class DateValue:
    prefix: str  # eq ne gt lt ge le sa eb ap
    low: datetime  # inclusive
    high: datetime  # exclusive


@dataclass(frozen=True)
class DateCriterion:
    param: str
    values: tuple[DateValue, ...]  # OR-ed


# For a point target t and search range [low, high): (SQL template, which bounds it takes)
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
    parts, args = [], []
    for value in criterion.values:
        bounds = {"low": value.low, "high": value.high}
        prefix = value.prefix
        if prefix == "ap":  # R4: "approximately"; we allow 10% of the distance to now, at least the precision
            margin = max(abs(datetime.now(value.low.tzinfo) - value.low) / 10, value.high - value.low)
            bounds = {"low": value.low - margin, "high": value.high + margin}
            prefix = "eq"
        template, names = _POINT_CONDITIONS[prefix]
        parts.append(sql.SQL(template.format(col=column)))
        args += [bounds[name] for name in names]
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts)), args
