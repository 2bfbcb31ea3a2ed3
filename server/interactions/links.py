"""Absolute URLs the server writes into Bundles, all derived from the base URL."""

from __future__ import annotations

from urllib.parse import urlencode


def page_url(base_url: str, path: str, pairs: list[tuple[str, str]]) -> str:
    query = urlencode(pairs)
    return f"{base_url}{path}" + (f"?{query}" if query else "")


def resource_url(base_url: str, resource_type: str, id: str) -> str:
    return f"{base_url}/{resource_type}/{id}"
