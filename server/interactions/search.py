"""search-type, compartment search and search-system (R4 http.html#search, search.html):
a searchset Bundle paged by keyset links, with _include/_revinclude under the guard."""

from __future__ import annotations

from contextlib import nullcontext

from ..fhir.bundles import Bundle, BundleEntry
from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, Forbidden
from ..fhir.subsetting import subset
from ..search.query import Include, ParsedSearch, SearchParser, encode_search_cursor
from . import repository
from .context import RequestContext
from .links import page_url, resource_url
from .repository import CompartmentCriterion, Match, SearchResult

MAX_INCLUDE_ROUNDS = 3  # :iterate stops after this many rounds


def search_type(
    ctx: RequestContext, resource_type: str, pairs: list[tuple[str, str]], strict: bool = False, conn=None
) -> Bundle:
    """`conn`: search there (a transaction's GET entry sees the transaction's own writes)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.SEARCH_TYPE)
    return _search(ctx, _parser(ctx, definition, (resource_type,)).parse(pairs, strict), f"/{resource_type}", conn)


def search_compartment(
    ctx: RequestContext,
    compartment_type: str,
    compartment_id: str,
    resource_type: str,
    pairs: list[tuple[str, str]],
    strict: bool = False,
) -> Bundle:
    """GET /Patient/7/MedicationRequest: a search-type confined to the compartment (R4 http.html#vsearch)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.SEARCH_TYPE)
    params = definition.compartments.get(compartment_type, ())
    if not params and resource_type != compartment_type:
        raise BadRequest(f"{resource_type} is not in the {compartment_type} compartment")
    parsed = _parser(ctx, definition, (resource_type,)).parse(pairs, strict)
    parsed.plan.criteria.append(
        CompartmentCriterion(compartment_type, compartment_id, params, is_owner=resource_type == compartment_type)
    )
    return _search(ctx, parsed, f"/{compartment_type}/{compartment_id}/{resource_type}")


def search_system(ctx: RequestContext, pairs: list[tuple[str, str]], strict: bool = False) -> Bundle:
    """GET /fhir?_type=Patient,Condition&...: the types given (or every searchable one), common parameters only."""
    requested = [t for name, value in pairs if name == "_type" for t in value.split(",") if t]
    types = tuple(dict.fromkeys(requested)) or ctx.guard.allowed_types(
        Interaction.SEARCH_TYPE, ctx.services.registry.types
    )
    if not types:
        raise Forbidden("The granted scopes allow searching no resource type")
    definitions = [ctx.guard.definition(ctx.services.registry, t, Interaction.SEARCH_TYPE) for t in types]
    return _search(ctx, _parser(ctx, definitions[0], types).parse(pairs, strict), "")


def _parser(ctx: RequestContext, definition, types: tuple[str, ...]) -> SearchParser:
    services = ctx.services
    return SearchParser(
        definition, ctx.base_url, services.default_page_size, services.max_page_size, services.registry, types
    )


def _search(ctx: RequestContext, parsed: ParsedSearch, path: str, conn=None) -> Bundle:
    with nullcontext(conn) if conn is not None else ctx.services.database.connection() as conn:
        result = repository.search_page(ctx, conn, parsed.plan)
        extra = _includes(ctx, conn, parsed.includes, result.matches) if parsed.includes else []
    entries = [_entry(ctx, parsed, match, "match") for match in result.matches]
    entries += [_entry(ctx, parsed, match, "include") for match in extra]
    return Bundle("searchset", entries, _links(ctx, parsed, result, path), result.total, warnings=parsed.warnings)


def _entry(ctx: RequestContext, parsed: ParsedSearch, match: Match, mode: str) -> BundleEntry:
    content = subset(match.content, match.resource_type, parsed.summary, parsed.elements)
    return BundleEntry(resource_url(ctx.base_url, match.resource_type, match.id), content, mode)


def _links(ctx: RequestContext, parsed: ParsedSearch, result: SearchResult, path: str) -> dict[str, str]:
    def url(cursor: str | None) -> str:
        return page_url(ctx.base_url, path, parsed.link_pairs + ([("_cursor", cursor)] if cursor else []))

    cursor = parsed.plan.cursor
    links = {"self": url(encode_search_cursor(*cursor) if cursor else None)}
    if not result.matches:
        return links
    first, last = result.matches[0], result.matches[-1]
    backwards = cursor is not None and cursor[0] == "before"
    if (result.more and not backwards) or backwards:
        links["next"] = url(encode_search_cursor("after", last.sort_values, last.seq))
    if cursor is not None and (result.more or not backwards):
        links["previous"] = url(encode_search_cursor("before", first.sort_values, first.seq))
    return links


def _includes(ctx: RequestContext, conn, includes: list[Include], matches: list[Match]) -> list[Match]:
    """Included resources, each once, never one of the matches; :iterate follows the newly included."""
    seen = {m.seq for m in matches}
    found: list[Match] = []
    current, specs = matches, [i for i in includes if not i.iterate]
    for round_number in range(MAX_INCLUDE_ROUNDS + 1):
        new = [m for spec in specs for m in _apply(ctx, conn, spec, current) if m.seq not in seen]
        new = list({m.seq: m for m in new}.values())
        seen.update(m.seq for m in new)
        found += new
        if not new:
            break
        current, specs = (matches + found if round_number == 0 else new), [i for i in includes if i.iterate]
    return found


def _apply(ctx: RequestContext, conn, spec: Include, sources: list[Match]) -> list[Match]:
    if spec.reverse:
        targets = [(m.resource_type, m.id) for m in sources]
        return (
            repository.revincluded(ctx, conn, targets, spec.source_type, spec.param, spec.target_type)
            if targets
            else []
        )
    seqs = [m.seq for m in sources if m.resource_type == spec.source_type or spec.param == "*"]
    if spec.param == "*":
        return [
            r
            for t in {m.resource_type for m in sources}
            for r in repository.included(ctx, conn, [m.seq for m in sources if m.resource_type == t], t, "*", None)
        ]
    return repository.included(ctx, conn, seqs, spec.source_type, spec.param, spec.target_type) if seqs else []
