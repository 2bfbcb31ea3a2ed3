"""Per-request metrics: counted by interaction, resource type and status, timed by interaction and type.

Labels come from the matched route's template (`/fhir/Patient/<id>`), never from the request's own path or query,
so no id, name or other request value reaches a label."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from flask import Flask, request

from ..fhir.interactions import Interaction
from ..metrics import registry as metrics

ROUTE = "fhir.route"  # the environ key where the matched route's template is left for the middleware
POOL_SAMPLE_SECONDS = 1.0

_FHIR_ROUTES = {  # R4 http.html's interaction names (the guard's Interaction), by (method, route with {type})
    ("GET", "/fhir/metadata"): Interaction.CAPABILITIES,
    ("GET", "/fhir"): Interaction.SEARCH_SYSTEM,
    ("POST", "/fhir"): "batch-transaction",  # which of the two is in the body, not the route
    ("GET", "/fhir/_history"): Interaction.HISTORY_SYSTEM,
    ("GET", "/fhir/{type}"): Interaction.SEARCH_TYPE,
    ("POST", "/fhir/{type}"): Interaction.CREATE,
    ("PUT", "/fhir/{type}"): Interaction.UPDATE,
    ("PATCH", "/fhir/{type}"): Interaction.PATCH,
    ("DELETE", "/fhir/{type}"): Interaction.DELETE,
    ("POST", "/fhir/{type}/_search"): Interaction.SEARCH_TYPE,
    ("GET", "/fhir/{type}/_history"): Interaction.HISTORY_TYPE,
    ("GET", "/fhir/{type}/<id>"): Interaction.READ,
    ("PUT", "/fhir/{type}/<id>"): Interaction.UPDATE,
    ("PATCH", "/fhir/{type}/<id>"): Interaction.PATCH,
    ("DELETE", "/fhir/{type}/<id>"): Interaction.DELETE,
    ("GET", "/fhir/{type}/<id>/_history"): Interaction.HISTORY_INSTANCE,
    ("GET", "/fhir/{type}/<id>/_history/<version_id>"): Interaction.VREAD,
}


_TYPE_ARGUMENT = re.compile(r"<any\([^)]*\):resource_type>")
_COMPARTMENT = re.compile(r"^/fhir/<any\([^)]*\):compartment_type>/<compartment_id>/")


@lru_cache(maxsize=1024)
def _interaction(method: str, route: str | None) -> str:
    """The interaction of a route template; routes outside FHIR are named by their template."""
    if route is None:
        return "unmatched"
    if _COMPARTMENT.match(route):
        return Interaction.SEARCH_TYPE.value  # R4 search.html#compartments: a type search within a compartment
    shape = _TYPE_ARGUMENT.sub("{type}", route)
    operation = next((part for part in shape.split("/") if part.startswith("$")), None)
    return operation or str(_FHIR_ROUTES.get((method, shape), shape))  # operations by name: $everything


_children: dict[tuple, tuple] = {}  # (interaction, type, status) -> its counter and histogram (labels() takes a lock)


def observe(environ: dict, status: int, seconds: float, types: frozenset[str]) -> None:
    route, type_ = environ.get(ROUTE, (None, None))
    interaction = _interaction(environ.get("REQUEST_METHOD", ""), route)
    type_ = type_ if type_ in types else ""  # only the registry's types: a bounded label
    key = (interaction, type_, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            metrics.REQUESTS.labels(interaction, type_, str(status)),
            metrics.LATENCY.labels(interaction, type_),
        )
    children[0].inc()
    children[1].observe(seconds)


def _remember_route(endpoint, values) -> None:
    if request.url_rule is not None:
        type_ = (values or {}).get("resource_type") or ("Patient" if "/Patient/" in request.url_rule.rule else None)
        request.environ[ROUTE] = (request.url_rule.rule, type_)


def sample_pool(pool, stop: threading.Event) -> None:
    """In each worker, every second: the pool's connections open, lent and awaited, into the gauges."""
    while not stop.wait(POOL_SAMPLE_SECONDS):
        stats = pool.get_stats()
        metrics.POOL_SIZE.set(stats.get("pool_size", 0))
        metrics.POOL_IN_USE.set(stats.get("pool_size", 0) - stats.get("pool_available", 0))
        metrics.POOL_WAITING.set(stats.get("requests_waiting", 0))


def install(app: Flask, pool) -> None:
    app.url_value_preprocessor(_remember_route)
    stop = threading.Event()
    threading.Thread(target=sample_pool, args=(pool, stop), name="fhir-pool-metrics", daemon=True).start()
    app.extensions["fhir.on_shutdown"].append(stop.set)
