"""Search criteria of conditional interactions and conditional references (R4 http.html#cond-update,
references.html#conditional): `identifier=http://hospital.example/mrn|123` -> the matching ids."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest
from ..search.query import SearchParser
from ..search.registry import ResourceDefinition
from ..storage.locks import lock_key
from . import repository
from .context import RequestContext


def criteria_pairs(criteria: str) -> list[tuple[str, str]]:
    """`Patient?a=1&b=2`, `?a=1` or `a=1` -> [(a, 1), (b, 2)]; no criteria at all is a 400."""
    query = criteria.partition("?")[2] if "?" in criteria else criteria
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        raise BadRequest(f"Conditional criteria '{criteria}' has no search parameters")
    return pairs


def matching_ids(
    ctx: RequestContext, conn, definition: ResourceDefinition, criteria: str, interaction: Interaction, limit: int = 2
) -> list[str]:
    """Ids of up to `limit` live resources matching, seen in the caller's transaction.

    A transaction-scoped advisory lock on (type, normalized criteria) is taken first, so that two
    concurrent conditional creates of one identifier run one after the other and the second finds
    the first's resource (R4 http.html#ccreate: the server must not create duplicates)."""
    pairs = criteria_pairs(criteria)
    if any(name in ("_count", "_cursor", "_total") for name, _ in pairs):
        raise BadRequest("Conditional criteria may not carry paging parameters")
    lock_key(conn, f"conditional:{definition.type}?{urlencode(sorted(pairs))}")
    parsed = SearchParser(
        definition, ctx.base_url, limit, max(limit, ctx.services.max_page_size), ctx.services.registry
    ).parse(pairs, True)
    parsed.plan.count = limit
    matches = repository.search(ctx, conn, parsed.plan, interaction)
    return [match.id for match in matches[:limit]]
