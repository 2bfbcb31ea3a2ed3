"""Date search (R4 search.html#date): a date, dateTime, instant or Period is stored as the range
[low, high) it covers; a search value of any precision is a range too, and prefixes compare the two."""

from __future__ import annotations

from datetime import UTC, datetime

from ...fhir.outcomes import BadRequest
from ...storage.index.date import DateCriterion, DateValue, approximate
from ..dates import parse_range
from ..values import split_prefix
from .ranges import RANGE_MATCHES

CRITERION = DateCriterion
MODIFIERS = frozenset({""})
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def ranges(value) -> list[tuple[datetime, datetime]]:
    """The range of a date, dateTime or instant; a Period's open ends are unbounded."""
    try:
        if isinstance(value, str):
            return [parse_range(value)]
        if isinstance(value, dict) and ("start" in value or "end" in value):
            low = parse_range(value["start"])[0] if "start" in value else EARLIEST
            high = parse_range(value["end"])[1] if "end" in value else LATEST
            return [(low, high)]
    except (ValueError, TypeError):
        return []
    return []


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    rows["date"] += [(param.name, low, high) for low, high in ranges(value)]


def parse_date_value(param: str, text: str) -> DateValue:
    """`[prefix]dateTime`: the value's precision gives its range."""
    prefix, value = split_prefix(text)
    try:
        low, high = parse_range(value)
    except ValueError:
        raise BadRequest(
            f"Invalid date value '{text}' for parameter '{param}': expected"
            " [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|+hh:mm]]]]",
            expression=param,
        ) from None
    return DateValue(prefix, low, high)


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier not in MODIFIERS:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{param.name}'", expression=name)
    return DateCriterion(param.name, tuple(parse_date_value(name, v) for v in values))


def _bounds(value: DateValue) -> tuple[datetime, datetime]:
    return approximate(value) if value.prefix == "ap" else (value.low, value.high)


def matches(criterion: DateCriterion, rows: dict[str, list]) -> bool:
    bounds = [(RANGE_MATCHES[v.prefix], *_bounds(v)) for v in criterion.values]
    return any(
        param == criterion.param and any(match(low, high, t_low, t_high) for match, low, high in bounds)
        for param, t_low, t_high in rows.get("date", ())
    )


# A point in time (meta.lastUpdated) compared with a search range [low, high): storage/index/date.py's
# point_condition, in memory.
_POINT_MATCHES = {
    "eq": lambda low, high, t: low <= t < high,
    "ne": lambda low, high, t: t < low or t >= high,
    "gt": lambda low, high, t: t >= high,
    "sa": lambda low, high, t: t >= high,
    "lt": lambda low, high, t: t < low,
    "eb": lambda low, high, t: t < low,
    "ge": lambda low, high, t: t >= low,
    "le": lambda low, high, t: t < high,
}


def point_matches(criterion: DateCriterion, moment: datetime) -> bool:
    for value in criterion.values:
        prefix, (low, high) = ("eq", approximate(value)) if value.prefix == "ap" else (value.prefix, _bounds(value))
        if _POINT_MATCHES[prefix](low, high, moment):
            return True
    return False
