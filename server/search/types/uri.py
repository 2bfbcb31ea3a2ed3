"""URI search (R4 search.html#uri): exact match; `:below` is a prefix, `:above` the reverse."""

from __future__ import annotations

from ...fhir.outcomes import BadRequest
from ...storage.index.uri import UriCriterion

CRITERION = UriCriterion
MODIFIERS = frozenset({"", "below", "above"})


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    if isinstance(value, str):
        rows["uri"].append((param.name, value))


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier not in MODIFIERS:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{param.name}'", expression=name)
    return UriCriterion(param.name, tuple(values), modifier or "exact")


def _value_matches(mode: str, searched: str, value: str) -> bool:
    """storage/index/uri.py's condition, in memory."""
    if mode == "below":
        return value.startswith(searched)
    if mode == "above":
        return searched.startswith(value)
    return value == searched


def matches(criterion: UriCriterion, rows: dict[str, list]) -> bool:
    return any(
        param == criterion.param and any(_value_matches(criterion.mode, v, value) for v in criterion.values)
        for param, value in rows.get("uri", ())
    )
