"""Whether one resource matches parsed search criteria, in memory: the same answer as the SQL search
over its index rows (each search type's `matches` mirrors its condition in storage/index/), for
granular scopes on a single resource, and later subscriptions and CDS prefetch checks."""

from __future__ import annotations

from ..storage.index.date import DateCriterion
from ..storage.search import (
    AnyOfCriterion,
    ChainCriterion,
    CompartmentCriterion,
    HasCriterion,
    IdCriterion,
    MissingCriterion,
)
from .dates import parse_range
from .extract import index_rows
from .registry import ResourceDefinition
from .types import SEARCH_TYPES
from .types.date import point_matches

_MATCHERS = {module.CRITERION: module.matches for module in SEARCH_TYPES.values()}


class NotMatchable(Exception):
    """A criterion that needs other resources (a chain, _has): only a search over the store can answer."""


def matches(
    definition: ResourceDefinition, resource: dict, criteria, base_url: str, rows: dict[str, list] | None = None
) -> bool:
    """Whether the resource matches every criterion (AND); `rows`: its index rows, when already built."""
    rows = index_rows(definition, resource, base_url) if rows is None else rows
    return all(criterion_matches(criterion, resource, rows) for criterion in criteria)


def criterion_matches(criterion, resource: dict, rows: dict[str, list]) -> bool:
    if isinstance(criterion, DateCriterion) and criterion.param == "_lastUpdated":
        return _last_updated_matches(criterion, resource)
    match = _MATCHERS.get(type(criterion))
    if match is not None:
        return match(criterion, rows)
    if isinstance(criterion, IdCriterion):
        return resource.get("id") in criterion.ids
    if isinstance(criterion, MissingCriterion):
        present = any(
            row[0] == criterion.param and (criterion.part is None or row[3] == criterion.part)
            for row in rows.get(criterion.search_type, ())
        )
        return present != criterion.missing
    if isinstance(criterion, AnyOfCriterion):
        return any(all(criterion_matches(c, resource, rows) for c in group) for group in criterion.alternatives)
    if isinstance(criterion, CompartmentCriterion):
        return (criterion.is_owner and resource.get("id") == criterion.target_id) or any(
            param in criterion.params and (target_type, target_id) == (criterion.target_type, criterion.target_id)
            for param, target_type, target_id in rows.get("reference", ())
        )
    if isinstance(criterion, (ChainCriterion, HasCriterion)):
        raise NotMatchable("a chained or _has parameter needs a search over other resources")
    raise NotMatchable(f"no in-memory match for {type(criterion).__name__}")


def _last_updated_matches(criterion: DateCriterion, resource: dict) -> bool:
    last_updated = resource.get("meta", {}).get("lastUpdated")
    return last_updated is not None and point_matches(criterion, parse_range(last_updated)[0])
