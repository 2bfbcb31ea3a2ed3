"""`fhir-server audit export`: the AuditEvents recorded since an instant, oldest first, as NDJSON
for a SIEM, read page by page through search-type (date=ge..., _sort=date). Reading the trail is an
access like any other: the run records one AuditEvent of its own (the operator, how many it wrote, the
outcome), after the ones it exported."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from ..fhir.interactions import Interaction
from . import audit
from .context import RequestContext
from .search import search_type

PAGE = 1000


def export_audit_events(
    ctx: RequestContext, since: str, write: Callable[[bytes], None], on_page: Callable[[int], None] = lambda n: None
) -> int:
    """Write each AuditEvent recorded at or after `since` as one JSON line; return how many."""
    written = 0

    def counted(line: bytes) -> None:
        nonlocal written
        write(line)
        written += 1

    try:
        _export(ctx, since, counted, on_page)
    except BaseException as error:
        _audited(ctx, since, written, 500, f"Audit export stopped after {written} events: {type(error).__name__}")
        raise
    _audited(ctx, since, written, 0, f"Exported {written} AuditEvents recorded since {since}")
    return written


def _audited(ctx: RequestContext, since: str, written: int, outcome: int, description: str) -> None:
    audit.record(
        ctx,
        Interaction.OPERATION,
        outcome=outcome,
        subtype="audit-export",
        description=description,
        counts={"AuditEvent": written},
    )


def _export(ctx: RequestContext, since: str, write: Callable[[bytes], None], on_page: Callable[[int], None]) -> None:
    pairs = [("date", f"ge{since}"), ("_sort", "date"), ("_count", str(PAGE)), ("_total", "none")]
    while True:
        bundle = search_type(ctx, "AuditEvent", pairs, strict=True)
        for entry in bundle.entries:
            if entry.resource_json is not None and entry.search_mode == "match":
                write(entry.resource_json.encode() + b"\n")
        on_page(len(bundle.entries))
        following = bundle.links.get("next")
        if not following:
            return
        cursor = dict(parse_qsl(urlsplit(following).query)).get("_cursor")
        assert cursor is not None  # this server's next links always carry _cursor
        pairs = [(k, v) for k, v in pairs if k != "_cursor"] + [("_cursor", cursor)]
