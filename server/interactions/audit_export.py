"""`fhir-server audit export`: the AuditEvents recorded since an instant, oldest first, as NDJSON
for a SIEM, read page by page through search-type (date=ge..., _sort=date)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from .context import RequestContext
from .search import search_type

PAGE = 1000


def export_audit_events(
    ctx: RequestContext, since: str, write: Callable[[bytes], None], on_page: Callable[[int], None] = lambda n: None
) -> int:
    """Write each AuditEvent recorded at or after `since` as one JSON line; return how many."""
    pairs = [("date", f"ge{since}"), ("_sort", "date"), ("_count", str(PAGE)), ("_total", "none")]
    written = 0
    while True:
        bundle = search_type(ctx, "AuditEvent", pairs, strict=True)
        for entry in bundle.entries:
            if entry.resource_json is not None and entry.search_mode == "match":
                write(entry.resource_json.encode() + b"\n")
                written += 1
        on_page(len(bundle.entries))
        following = bundle.links.get("next")
        if not following:
            return written
        cursor = dict(parse_qsl(urlsplit(following).query)).get("_cursor")
        assert cursor is not None  # this server's next links always carry _cursor
        pairs = [(k, v) for k, v in pairs if k != "_cursor"] + [("_cursor", cursor)]
