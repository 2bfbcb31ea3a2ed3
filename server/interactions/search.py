"""search-type (R4 http.html#search, search.html): a searchset Bundle paged by keyset links."""
from __future__ import annotations

from ..fhir.bundles import Bundle, BundleEntry
from ..search.query import SearchParser
from ..storage.search import search
from .context import RequestContext
from .links import page_url, resource_url


def search_type(ctx: RequestContext, resource_type: str, pairs: list[tuple[str, str]], strict: bool = False) -> Bundle:
    definition = ctx.definition(resource_type, "search-type")
    services = ctx.services
    parsed = SearchParser(definition, ctx.base_url, services.default_page_size, services.max_page_size).parse(pairs, strict)
    parsed.plan.compartment_patient = ctx.policy.compartment_patient("search-type", resource_type)
    with services.database.connection() as conn:
        matches, total = search(conn, parsed.plan)
    page = matches[:parsed.plan.count]
    has_next = bool(page) and len(matches) > len(page)
    path = f"/{resource_type}"
    links = {"self": page_url(ctx.base_url, path, _with_cursor(parsed.link_pairs, parsed.plan.after_seq))}
    if has_next:
        links["next"] = page_url(ctx.base_url, path, _with_cursor(parsed.link_pairs, page[-1].seq))
    entries = [BundleEntry(resource_url(ctx.base_url, resource_type, m.id), m.content, "match") for m in page]
    return Bundle("searchset", entries, links, total, warnings=parsed.warnings)


def _with_cursor(pairs: list[tuple[str, str]], seq: int | None) -> list[tuple[str, str]]:
    return pairs if seq is None else pairs + [("_cursor", str(seq))]
