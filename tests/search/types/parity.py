"""The parity harness: the same generated resources stored in the real server (PostgreSQL), searched
over HTTP with a generated criterion, and matched in memory (search.matcher) must select the same
resources. Each example's search is confined to its own resources with `_id`."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from server.fhir.outcomes import BadRequest
from server.search.matcher import matches
from server.search.query import SearchParser

# Bounded so that the whole parity suite stays well under a minute; raise it to explore more.
EXAMPLES = int(os.environ.get("PARITY_EXAMPLES", "30"))
parity_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def store(client, resources: list[dict]) -> list[dict]:
    """Create the resources in one batch; return them as stored (with id and meta)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in resources],
    }
    response = client.post(client.base_url, json=bundle, headers={"Prefer": "return=representation"})
    assert response.status_code == 200, response.text
    stored = []
    for entry, resource in zip(response.json()["entry"], resources, strict=False):
        assert entry["response"]["status"].startswith("201"), (entry, resource)
        stored.append(entry["resource"])
    return stored


def server_selects(client, resource_type: str, ids: list[str], name: str, value: str) -> set[str] | None:
    """Ids the server's search selects among `ids`, or None when it refuses the criterion (400)."""
    response = client.get(
        resource_type,
        params=[("_id", ",".join(ids)), (name, value), ("_count", "100")],
        headers={"Prefer": "handling=strict"},
    )
    if response.status_code == 400:
        return None
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"}


def memory_selects(services, resources: list[dict], name: str, value: str) -> set[str] | None:
    """Ids the in-memory matcher selects, or None when the criterion does not parse."""
    definition = services.registry.get(resources[0]["resourceType"])
    try:
        criteria = (
            SearchParser(definition, services.base_url, 100, 100, services.registry)
            .parse([(name, value)], strict=True)
            .plan.criteria
        )
    except BadRequest:
        return None
    return {r["id"] for r in resources if matches(definition, r, criteria, services.base_url)}


def assert_parity(client, services, resources: list[dict], queries: list[tuple[str, str]]) -> None:
    stored = store(client, resources)
    ids = [r["id"] for r in stored]
    for name, value in queries:
        in_sql = server_selects(client, stored[0]["resourceType"], ids, name, value)
        in_memory = memory_selects(services, stored, name, value)
        assert in_sql == in_memory, f"{name}={value}: SQL {in_sql} vs in memory {in_memory}\n{stored}"
