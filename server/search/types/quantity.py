"""Quantity search (R4 search.html#quantity): a value as the range its precision implies (or a
Range's low..high), with its unit system and code; `[prefix]number|system|code` matches all three."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ...fhir.outcomes import BadRequest
from ...storage.index.quantity import QuantityCriterion, QuantityValue, bounds
from ..values import split_prefix, split_unescaped
from .ranges import RANGE_MATCHES

CRITERION = QuantityCriterion
MODIFIERS = frozenset({""})
_UNBOUNDED = Decimal("1e30")
# Beyond this decimal exponent a number is no measurement (and PostgreSQL's numeric refuses the far end).
_MAX_EXPONENT = 1000


def precision_range(number: Decimal) -> tuple[Decimal, Decimal]:
    """R4 search.html#number: 100 means [99.5, 100.5); the precision is that of the value as written."""
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):  # 'n', 'N', 'F': NaN or infinity, which scaleb refuses with TypeError too
        raise TypeError(f"{number} has no precision")
    half = Decimal(1).scaleb(exponent) / 2
    return number - half, number + half


def quantities(value) -> list[tuple[Decimal, Decimal, str | None, str | None]]:
    """(low, high, system, code) of a Quantity (code, else unit) or a Range."""
    if not isinstance(value, dict):
        return []
    try:
        if "value" in value:
            low, high = precision_range(Decimal(str(value["value"])))
            return [(low, high, value.get("system"), value.get("code") or value.get("unit"))]
        if "low" in value or "high" in value:
            bound: Any = value.get("low") or value.get("high")  # JSON; None raises AttributeError, caught below
            low = Decimal(str(value["low"]["value"])) if "value" in value.get("low", {}) else -_UNBOUNDED
            high = Decimal(str(value["high"]["value"])) if "value" in value.get("high", {}) else _UNBOUNDED
            return [(low, high, bound.get("system"), bound.get("code") or bound.get("unit"))]
    except (InvalidOperation, TypeError, AttributeError):
        return []
    return []


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    rows["quantity"] += [(param.name, *quantity) for quantity in quantities(value)]


def quantity_value(param: str, text: str) -> QuantityValue:
    """`[prefix]number[|system|code]`; the number's precision gives its range."""
    pieces = split_unescaped(text, "|")
    prefix, number = split_prefix(pieces[0])
    try:
        parsed = Decimal(number)
        if not parsed.is_finite() or abs(parsed.adjusted()) > _MAX_EXPONENT:
            raise InvalidOperation
        low, high = precision_range(parsed)
    except InvalidOperation:
        raise BadRequest(f"Invalid quantity '{text}' for parameter '{param}'", expression=param) from None
    if len(pieces) not in (1, 3):
        raise BadRequest(f"Invalid quantity '{text}' for '{param}': expected number|system|code", expression=param)
    system, code = (pieces[1] or None, pieces[2] or None) if len(pieces) == 3 else (None, None)
    return QuantityValue(prefix, low, high, system, code)


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier not in MODIFIERS:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{param.name}'", expression=name)
    return QuantityCriterion(param.name, tuple(quantity_value(name, v) for v in values))


def _value_matches(value: QuantityValue, low, high, t_low, t_high, system, code) -> bool:
    """storage/index/quantity.py's condition, in memory."""
    return (
        RANGE_MATCHES[value.prefix](low, high, t_low, t_high)
        and (not value.system or system == value.system)
        and (not value.code or code == value.code)
    )


def matches(criterion: QuantityCriterion, rows: dict[str, list]) -> bool:
    searched = [(value, *bounds(value)) for value in criterion.values]
    return any(
        param == criterion.param
        and any(_value_matches(v, low, high, t_low, t_high, system, code) for v, low, high in searched)
        for param, t_low, t_high, system, code in rows.get("quantity", ())
    )
