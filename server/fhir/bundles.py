"""Bundles assembled around stored JSON text, which is embedded as-is and never re-parsed (R4 bundle.html)."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from .outcomes import Issue, operation_outcome


@dataclass
class BundleEntry:
    full_url: str | None
    resource_json: str | None = None
    search_mode: str | None = None
    request: dict | None = None
    response: dict | None = None

    def as_json(self) -> dict:
        entry: dict = {"fullUrl": self.full_url} if self.full_url else {}
        if self.resource_json is not None:
            entry["resource"] = orjson.Fragment(self.resource_json)
        if self.search_mode:
            entry["search"] = {"mode": self.search_mode}
        if self.request:
            entry["request"] = self.request
        if self.response:
            entry["response"] = self.response
        return entry


@dataclass
class Bundle:
    type: str
    entries: list[BundleEntry] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    total: int | None = None
    timestamp: str | None = None
    warnings: list[Issue] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        bundle: dict = {"resourceType": "Bundle", "type": self.type}
        if self.timestamp:
            bundle["timestamp"] = self.timestamp
        if self.total is not None:
            bundle["total"] = self.total
        if self.links:
            bundle["link"] = [{"relation": relation, "url": url} for relation, url in self.links.items()]
        entries = [entry.as_json() for entry in self.entries]
        if self.warnings:
            # R4 search.html#errors: unknown parameters are reported in an outcome entry
            entries.append({"resource": operation_outcome(self.warnings), "search": {"mode": "outcome"}})
        if entries:
            bundle["entry"] = entries
        return orjson.dumps(bundle)
