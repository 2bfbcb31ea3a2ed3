"""history-instance, history-type and history-system (R4 http.html#history): newest first."""

from __future__ import annotations

from dataclasses import replace

from ..fhir.bundles import Bundle, BundleEntry
from ..fhir.interactions import Interaction
from ..fhir.outcomes import NotFound
from ..fhir.references import require_valid_id
from ..search.query import parse_count, parse_cursor, parse_since
from . import repository
from .context import RequestContext
from .links import page_url, resource_url
from .repository import HistoryQuery, Version
from .versions import instant

_UPDATED_STATUS = {"PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def history_instance(ctx: RequestContext, resource_type: str, id: str, pairs) -> Bundle:
    """Like read: a malformed id is 400, one with no version the token may see 404."""
    ctx.guard.definition(ctx.services.registry, resource_type, Interaction.HISTORY_INSTANCE)
    require_valid_id(resource_type, id)
    query = _query(ctx, pairs, (resource_type,), id=id)
    bundle = _bundle(ctx, Interaction.HISTORY_INSTANCE, query, f"/{resource_type}/{id}/_history", pairs)
    if bundle.total == 0 and not _has_versions(ctx, query):
        raise NotFound(f"{resource_type}/{id} is not known")
    return bundle


def history_type(ctx: RequestContext, resource_type: str, pairs) -> Bundle:
    ctx.guard.definition(ctx.services.registry, resource_type, Interaction.HISTORY_TYPE)
    return _bundle(
        ctx, Interaction.HISTORY_TYPE, _query(ctx, pairs, (resource_type,)), f"/{resource_type}/_history", pairs
    )


def history_system(ctx: RequestContext, pairs) -> Bundle:
    """Only the types the token may search; patient/ scopes keep it within their compartment."""
    return _bundle(ctx, Interaction.HISTORY_SYSTEM, _query(ctx, pairs, ctx.services.registry.types), "/_history", pairs)


def _has_versions(ctx: RequestContext, query: HistoryQuery) -> bool:
    """Whether the query finds any version the token may see once _since and the cursor are left out."""
    if query.since is None and query.before_seq is None:
        return False  # the page just read was that very query
    with ctx.services.database.connection() as conn:
        return (
            repository.history(
                ctx, conn, Interaction.HISTORY_INSTANCE, replace(query, since=None, before_seq=None, count=0)
            )[1]
            > 0
        )


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


def _status(version: Version, created: bool) -> str:
    """What the write answered: a create (POST, or PUT as create) 201, an update 200, a delete 204."""
    if version.deleted:
        return _UPDATED_STATUS["DELETE"]
    return "201 Created" if created or version.method == "POST" else _UPDATED_STATUS[version.method]


def _entry(ctx: RequestContext, version: Version, created: bool) -> BundleEntry:
    url = resource_url(ctx.base_url, version.resource_type, version.id)
    request_url = version.resource_type if version.method == "POST" else f"{version.resource_type}/{version.id}"
    return BundleEntry(
        url,
        version.content,
        request={"method": version.method, "url": request_url},
        response={
            "status": _status(version, created),
            "etag": f'W/"{version.version_id}"',
            "lastModified": instant(version.last_updated),
        },
    )


def _bundle(ctx: RequestContext, interaction: Interaction, query: HistoryQuery, path: str, pairs) -> Bundle:
    with ctx.services.database.connection() as conn:
        rows, total = repository.history(ctx, conn, interaction, query)
    page = rows[: query.count]
    has_next = bool(page) and len(rows) > len(page)
    kept = [(k, v) for k, v in pairs if k in ("_since", "_count")]
    links = {"self": page_url(ctx.base_url, path, list(pairs))}
    if has_next:
        links["next"] = page_url(ctx.base_url, path, kept + [("_cursor", str(page[-1][0]))])
    return Bundle("history", [_entry(ctx, version, created) for _, version, created in page], links, total)
