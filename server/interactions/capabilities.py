"""capabilities (R4 http.html#capabilities): the CapabilityStatement, generated from the registry."""
from __future__ import annotations

from datetime import datetime, timezone

from ..search.registry import Registry

# What the interactions package implements; a type offers the intersection with its definition file.
IMPLEMENTED_INTERACTIONS = frozenset({
    "read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type",
})
SYSTEM_INTERACTIONS = ("history-system",)
SOFTWARE_VERSION = "0.1.0"


def _resource(definition) -> dict:
    return {
        "type": definition.type,
        "profile": definition.raw.get("profile", f"http://hl7.org/fhir/StructureDefinition/{definition.type}"),
        "interaction": [{"code": code} for code in definition.interactions],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": False,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            {"name": p.name, "definition": p.definition, "type": p.type, "documentation": p.documentation}
            if p.definition else {"name": p.name, "type": p.type, "documentation": p.documentation}
            for p in sorted(definition.params.values(), key=lambda p: p.name)
        ],
    }


def capability_statement(registry: Registry, base_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "publisher": "FHIR medication server",
        "kind": "instance",
        "software": {"name": "fhir-medication-server", "version": SOFTWARE_VERSION},
        "implementation": {"description": "FHIR R4 server for psychiatric medication management", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
                "description": "Every request except metadata needs a Bearer access token with SMART scopes.",
            },
            "resource": [_resource(definition) for definition in registry.definitions.values()],
            "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
        }],
    }
