"""history-instance, history-type and history-system (R4 http.html#history): newest first."""
from __future__ import annotations

from ..fhir.bundles import Bundle, BundleEntry
from ..fhir.interactions import Interaction
from ..search.query import parse_count, parse_cursor, parse_since
from . import repository
from .context import RequestContext
from .repository import HistoryQuery, Version
from .links import page_url, resource_url
from .versions import instant

_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def history_instance(ctx: RequestContext, resource_type: str, id: str, pairs) -> Bundle:
    ctx.definition(resource_type, Interaction.HISTORY_INSTANCE)
    query = _query(ctx, pairs, (resource_type,), id=id)
    return _bundle(ctx, Interaction.HISTORY_INSTANCE, query, f"/{resource_type}/{id}/_history", pairs)


def history_type(ctx: RequestContext, resource_type: str, pairs) -> Bundle:
    ctx.definition(resource_type, Interaction.HISTORY_TYPE)
    return _bundle(ctx, Interaction.HISTORY_TYPE, _query(ctx, pairs, (resource_type,)),
                   f"/{resource_type}/_history", pairs)


def history_system(ctx: RequestContext, pairs) -> Bundle:
    """Only the types the token may search; patient/ scopes keep it within their compartment."""
    return _bundle(ctx, Interaction.HISTORY_SYSTEM, _query(ctx, pairs, ctx.services.registry.types), "/_history",
                   pairs)


def _query(ctx: RequestContext, pairs, types, **fields) -> HistoryQuery:
    fields["count"] = ctx.services.default_page_size
    for name, value in pairs:
        if name == "_since":
            fields["since"] = parse_since(value)
        elif name == "_count":
            fields["count"] = parse_count(value, ctx.services.max_page_size)
        elif name == "_cursor":
            fields["before_seq"] = parse_cursor(value)
    return HistoryQuery(types, **fields)


def _entry(ctx: RequestContext, version: Version) -> BundleEntry:
    url = resource_url(ctx.base_url, version.resource_type, version.id)
    request_url = version.resource_type if version.method == "POST" else f"{version.resource_type}/{version.id}"
    return BundleEntry(
        url, version.content, request={"method": version.method, "url": request_url},
        response={"status": _STATUS[version.method], "etag": f'W/"{version.version_id}"',
                  "lastModified": instant(version.last_updated)})


def _bundle(ctx: RequestContext, interaction: Interaction, query: HistoryQuery, path: str, pairs) -> Bundle:
    with ctx.services.database.connection() as conn:
        rows, total = repository.history(ctx, conn, interaction, query)
    page = rows[:query.count]
    has_next = bool(page) and len(rows) > len(page)
    kept = [(k, v) for k, v in pairs if k in ("_since", "_count")]
    links = {"self": page_url(ctx.base_url, path, list(pairs))}
    if has_next:
        links["next"] = page_url(ctx.base_url, path, kept + [("_cursor", str(page[-1][0]))])
    return Bundle("history", [_entry(ctx, version) for _, version in page], links, total)
