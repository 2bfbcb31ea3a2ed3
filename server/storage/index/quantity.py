"""Quantity index (R4 search.html#quantity): a value as the range its precision implies (or a
Range's low..high), with its unit system and code; `value|system|code` matches both."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from psycopg import sql

from .ranges import any_of, range_condition

TABLE = "search_quantity"
COLUMNS = ("param", "low", "high", "system", "code")
CASTS = ("text", "numeric", "numeric", "text", "text")


@dataclass(frozen=True)
class QuantityValue:
    prefix: str
    low: Decimal
    high: Decimal
    system: str | None = None
    code: str | None = None  # matched against the unit code, or the unit text when no system


@dataclass(frozen=True)
class QuantityCriterion:
    param: str
    values: tuple[QuantityValue, ...]  # OR-ed


def bounds(value: QuantityValue) -> tuple[Decimal, Decimal]:
    """The search range; "ap" widens it by 10% either side, at least the value's own precision."""
    low, high = value.low, value.high
    if value.prefix == "ap":
        margin = max(abs(low) / 10, high - low)
        low, high = low - margin, high + margin
    return low, high


def condition(criterion: QuantityCriterion) -> tuple[sql.Composable, list]:
    parts = []
    for value in criterion.values:
        low, high = bounds(value)
        part, args = range_condition(value.prefix, low, high)
        if value.system:
            part, args = sql.SQL("{} AND t.system = %s").format(part), args + [value.system]
        if value.code:
            part, args = sql.SQL("{} AND t.code = %s").format(part), args + [value.code]
        parts.append((part, args))
    return any_of(parts)


SORT_EXPRESSION = "t.low"
SORT_TYPE = "numeric"
