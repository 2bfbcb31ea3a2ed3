"""SMART v2 granular scopes (scopes-and-launch-context.html#finer-grained-resource-constraints-using-search-parameters):
`patient/Condition.rs?category=...|problem-list-item` grants only the resources matching the query.
Searches get the query's criteria added; a single resource is checked in memory (search.matcher)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..fhir.outcomes import BadRequest, Forbidden
from ..search.extract import index_rows
from ..search.matcher import NotMatchable, criterion_matches
from ..search.query import SearchParser
from ..search.registry import ResourceDefinition
from ..storage.index.token import TokenCriterion
from ..storage.search import AnyOfCriterion, IdCriterion, SearchPlan, search


def query_criteria(definition: ResourceDefinition, query: str, base_url: str) -> list:
    """The search criteria a scope's query stands for (AND-ed)."""
    try:
        return (
            SearchParser(definition, base_url, 1, 1)
            .parse(parse_qsl(query, keep_blank_values=True), strict=True)
            .plan.criteria
        )
    except BadRequest as error:
        raise Forbidden(f"The granular scope query '{query}' is not supported: {error}") from None


def union_criteria(definition: ResourceDefinition, queries: list[str], base_url: str) -> list:
    """Criteria matching what any of several scope queries grants: one token condition when each is a
    positive token condition on the same parameter (one index lookup), else any of the queries' criteria."""
    per_query = [query_criteria(definition, query, base_url) for query in queries]
    if len(per_query) == 1:
        return per_query[0]
    singles = [criteria[0] for criteria in per_query if len(criteria) == 1]
    if (
        len(singles) == len(per_query)
        and all(isinstance(c, TokenCriterion) and not c.negated for c in singles)
        and len({c.param for c in singles}) == 1
    ):
        return [TokenCriterion(singles[0].param, tuple(v for c in singles for v in c.values))]
    return [AnyOfCriterion(tuple(tuple(criteria) for criteria in per_query))]


def resource_matches(
    definition: ResourceDefinition, resource: dict, queries: list[str], base_url: str, conn=None
) -> bool:
    """Whether the resource falls within at least one of the scope queries: in memory, or, for a
    query only a search can answer (a chain, _has), by searching for it when it is stored (`conn`)."""
    rows = index_rows(definition, resource, base_url)
    for query in queries:
        criteria = query_criteria(definition, query, base_url)
        try:
            if all(criterion_matches(c, resource, rows) for c in criteria):
                return True
        except NotMatchable as reason:
            if conn is None or "id" not in resource:
                raise Forbidden(
                    f"The granular scope query '{query}' can be enforced on searches and reads of"
                    f" current versions only: {reason}"
                ) from None
            if _stored_matches(conn, definition.type, resource["id"], criteria):
                return True
    return False


def _stored_matches(conn, resource_type: str, id: str, criteria: list) -> bool:
    """Whether the stored current version of resource_type/id matches the criteria, by a search."""
    matches, _ = search(conn, SearchPlan((resource_type,), [IdCriterion((id,)), *criteria], count=1, total="none"))
    return bool(matches)
