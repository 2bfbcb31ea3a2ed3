"""Shared helpers for the search tests."""

from __future__ import annotations


def ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def found(client, resource_type: str, **params) -> list[str]:
    response = client.get(resource_type, params=params)
    assert response.status_code == 200, response.text
    return sorted(ids(response.json()))
