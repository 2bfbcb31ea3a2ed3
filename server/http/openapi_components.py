"""The components of the OpenAPI document (http/openapi.py): resource schemas, shared parameters and headers."""

from __future__ import annotations

from ..search.registry import Registry

ID_PATTERN = "^[A-Za-z0-9\\-\\.]{1,64}$"  # R4 datatypes.html#id
RESULT_PARAMS = {
    "_count": ("integer", "Page size (clamped to the server's maximum)"),
    "_sort": ("string", "Comma-separated search parameters, `-` for descending"),
    "_include": ("string", "Type:parameter[:target] to include referenced resources"),
    "_revinclude": ("string", "Type:parameter[:target] to include referring resources"),
    "_summary": ("string", "true | text | data | count | false"),
    "_elements": ("string", "Comma-separated top-level elements to return"),
    "_total": ("string", "none | estimate | accurate"),
    "_format": ("string", "json (this server speaks JSON only)"),
}


def schemas(registry: Registry) -> dict:
    def resource(type_: str, extra: dict | None = None) -> dict:
        return {
            "type": "object",
            "required": ["resourceType"],
            "additionalProperties": True,
            "properties": {
                "resourceType": {"type": "string", "enum": [type_]},
                "id": {"type": "string", "pattern": ID_PATTERN},
                "meta": {
                    "type": "object",
                    "properties": {"versionId": {"type": "string"}, "lastUpdated": {"type": "string"}},
                },
                **(extra or {}),
            },
        }

    schemas = {type_: resource(type_) for type_ in registry.types}
    schemas["OperationOutcome"] = resource(
        "OperationOutcome",
        {
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string"},
                        "diagnostics": {"type": "string"},
                        "expression": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    )
    schemas["OperationOutcome"]["required"] = ["resourceType", "issue"]
    schemas["Bundle"] = resource(
        "Bundle",
        {
            "type": {
                "type": "string",
                "enum": [
                    "searchset",
                    "history",
                    "batch",
                    "transaction",
                    "batch-response",
                    "transaction-response",
                    "collection",
                ],
            },
            "total": {"type": "integer", "minimum": 0},
            "link": {"type": "array", "items": {"type": "object"}},
            "entry": {"type": "array", "items": {"type": "object"}},
        },
    )
    schemas["Bundle"]["required"] = ["resourceType", "type"]
    schemas["Parameters"] = resource("Parameters", {"parameter": {"type": "array", "items": {"type": "object"}}})
    schemas["CapabilityStatement"] = resource("CapabilityStatement")
    return schemas


def parameters() -> dict:
    def header(name: str, description: str) -> dict:
        return {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": description,
        }

    parameters = {
        "Prefer": header("Prefer", "return=minimal | representation | OperationOutcome; handling=strict | lenient"),
        "If-Match": header("If-Match", 'W/"versionId": only if that is still the current version (else 412)'),
        "If-None-Match": header("If-None-Match", 'W/"versionId": 304 when unchanged'),
        "If-None-Exist": header("If-None-Exist", "A search (identifier=...): create only if nothing matches"),
        "_since": {
            "name": "_since",
            "in": "query",
            "schema": {"type": "string", "format": "date-time"},
            "description": "Only versions after this instant",
        },
    }
    for name, (kind, description) in RESULT_PARAMS.items():
        schema = {"type": kind, "minimum": 0} if kind == "integer" else {"type": kind}
        parameters[name] = {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }
    return parameters


def headers() -> dict:
    return {
        "ETag": {"description": 'W/"versionId"', "schema": {"type": "string"}},
        "Location": {"description": "[base]/[type]/[id]/_history/[vid]", "schema": {"type": "string"}},
        "Last-Modified": {"description": "meta.lastUpdated as an HTTP date", "schema": {"type": "string"}},
    }
