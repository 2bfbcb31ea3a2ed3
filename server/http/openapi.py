"""The OpenAPI 3.0 document of the FHIR API as it is: each route with its media types (application/fhir+json),
request bodies per resource type, the search parameters of each type from the registry (the same one the
CapabilityStatement is generated from), the Prefer / If-Match / If-None-Match / If-None-Exist headers, and the
statuses each route answers, every error an OperationOutcome (R4 http.html, operationoutcome.html).

A route of the app that the table below does not describe still appears, with its path parameters and the
OperationOutcome errors, so the document never omits a route that exists."""

from __future__ import annotations

import re

from ..search.registry import Registry
from .openapi_components import ID_PATTERN, RESULT_PARAMS, headers, parameters, schemas

FHIR_JSON = "application/fhir+json"
PREFIX = "/fhir"
ERRORS = {
    "400": "Bad request: the outcome names the element or parameter",
    "401": "No valid Bearer access token",
    "403": "The token's scopes do not allow this",
    "406": "Not acceptable: this server answers JSON only",
    "413": "The body is over the limit",
    "415": "Unsupported media type or content coding",
    "429": "Too many requests",
    "503": "The database is unavailable; retry after Retry-After seconds",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}}


def _response(description: str, schema: dict | None = None, headers: tuple[str, ...] = ()) -> dict:
    response: dict = {"description": description}
    if schema is not None:
        response["content"] = _json(schema)
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


def _responses(success: dict, *errors: str) -> dict:
    outcome = _ref("OperationOutcome")
    responses = dict(success)
    for status in ("400", "401", "403", "406", "429", "503", *errors):
        responses[status] = _response(ERRORS.get(status, _ERROR_TEXT.get(status, "Error")), outcome)
    responses["default"] = _response("Any other error, as an OperationOutcome", outcome)
    return responses


_ERROR_TEXT = {
    "404": "No such resource",
    "405": "Not supported here",
    "409": "Conflict (e.g. still referenced)",
    "410": "Deleted",
    "412": "Precondition failed (If-Match stale, or several conditional matches)",
    "422": "The resource is not valid: the outcome names each element",
}


def _header(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _path_params(path: str) -> list[dict]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": ID_PATTERN}}
        for name in re.findall(r"{(\w+)}", path)
    ]


def _search_params(registry: Registry, type_: str) -> list[dict]:
    definition = registry.get(type_)
    assert definition is not None  # called with the registry's own types
    params = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"{p.type} search parameter: {p.documentation}".strip(),
        }
        for p in sorted(definition.params.values(), key=lambda p: p.name)
    ]
    return params + [_header(name) for name in RESULT_PARAMS]


def _body(type_: str) -> dict:
    return {"required": True, "content": _json(_ref(type_))}


def _operation(
    operation_id: str, summary: str, tags: list[str], responses: dict, parameters=(), body=None, public: bool = False
) -> dict:
    operation = {"operationId": operation_id, "summary": summary, "tags": tags, "responses": responses}
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = body
    if public:
        operation["security"] = []
    return operation


_PATCH_BODY = {
    "required": True,
    "content": {  # RFC 6902 JSON Patch, or R4 fhirpatch.html as a Parameters
        "application/json-patch+json": {
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                        "path": {"type": "string"},
                        "from": {"type": "string"},
                        "value": {},
                    },
                },
            }
        },
        FHIR_JSON: {"schema": _ref("Parameters")},
    },
}


def _type_paths(registry: Registry, type_: str) -> dict[str, dict]:
    resource, bundle, outcome = _ref(type_), _ref("Bundle"), _ref("OperationOutcome")
    tags = [type_]
    search = _search_params(registry, type_)
    written = ("ETag", "Location", "Last-Modified")
    representation = _response(
        "The resource written (or an OperationOutcome under Prefer: return=OperationOutcome)",
        {"oneOf": [resource, outcome]},
        written,
    )
    return {
        f"/{type_}": {
            "get": _operation(
                f"search-type-{type_}",
                f"Search {type_} (R4 http.html#search)",
                tags,
                _responses({"200": _response("A searchset Bundle", bundle)}),
                search,
            ),
            "post": _operation(
                f"create-{type_}",
                f"Create a {type_} (R4 http.html#create; conditional with If-None-Exist)",
                tags,
                _responses(
                    {
                        "201": representation,
                        "200": _response("If-None-Exist matched one: that resource", resource, written),
                    },
                    "409",
                    "412",
                    "422",
                    "413",
                    "415",
                ),
                [_header("Prefer"), _header("If-None-Exist")],
                _body(type_),
            ),
            "put": _operation(
                f"conditional-update-{type_}",
                f"Conditional update of a {type_} found by search",
                tags,
                _responses({"200": representation, "201": representation}, "409", "412", "422", "413", "415"),
                [*search[: -len(RESULT_PARAMS)], _header("Prefer"), _header("If-Match")],
                _body(type_),
            ),
            "delete": _operation(
                f"conditional-delete-{type_}",
                f"Conditional delete of {type_} found by search",
                tags,
                _responses({"200": _response("Deleted", outcome), "204": _response("Deleted")}, "404", "409", "412"),
                search[: -len(RESULT_PARAMS)],
            ),
            "patch": _operation(
                f"conditional-patch-{type_}",
                f"Conditional patch of a {type_} found by search",
                tags,
                _responses({"200": representation}, "404", "409", "412", "422", "415"),
                [*search[: -len(RESULT_PARAMS)], _header("Prefer"), _header("If-Match")],
                _PATCH_BODY,
            ),
        },
        f"/{type_}/_search": {
            "post": _operation(
                f"search-type-post-{type_}",
                f"Search {type_} with the parameters in the body",
                tags,
                _responses({"200": _response("A searchset Bundle", bundle)}, "415"),
                (),
                {
                    "required": False,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                        }
                    },
                },
            ),
        },
        f"/{type_}/_history": {
            "get": _operation(
                f"history-type-{type_}",
                f"History of every {type_}",
                tags,
                _responses({"200": _response("A history Bundle", bundle)}),
                [_header("_since"), _header("_count")],
            ),
        },
        f"/{type_}/{{id}}": {
            "get": _operation(
                f"read-{type_}",
                f"Read a {type_} (R4 http.html#read)",
                tags,
                _responses(
                    {
                        "200": _response(f"The current {type_}", resource, written),
                        "304": _response("Not modified (If-None-Match)"),
                    },
                    "404",
                    "410",
                ),
                [*_path_params("{id}"), _header("If-None-Match"), _header("_summary"), _header("_elements")],
            ),
            "put": _operation(
                f"update-{type_}",
                f"Update (or create with this id) a {type_} (R4 http.html#update)",
                tags,
                _responses({"200": representation, "201": representation}, "404", "409", "412", "422", "413", "415"),
                [*_path_params("{id}"), _header("Prefer"), _header("If-Match")],
                _body(type_),
            ),
            "delete": _operation(
                f"delete-{type_}",
                f"Delete a {type_} (R4 http.html#delete)",
                tags,
                _responses({"200": _response("Deleted", outcome), "204": _response("Deleted")}, "404", "409", "412"),
                _path_params("{id}"),
            ),
            "patch": _operation(
                f"patch-{type_}",
                f"Patch a {type_}: JSON Patch or FHIRPath Patch",
                tags,
                _responses({"200": representation}, "404", "409", "412", "422", "415"),
                [*_path_params("{id}"), _header("Prefer"), _header("If-Match")],
                _PATCH_BODY,
            ),
        },
        f"/{type_}/{{id}}/_history": {
            "get": _operation(
                f"history-instance-{type_}",
                f"History of one {type_}",
                tags,
                _responses({"200": _response("A history Bundle", bundle)}, "404"),
                [*_path_params("{id}"), _header("_since"), _header("_count")],
            ),
        },
        f"/{type_}/{{id}}/_history/{{version_id}}": {
            "get": _operation(
                f"vread-{type_}",
                f"Read one version of a {type_} (R4 http.html#vread)",
                tags,
                _responses({"200": _response("That version", resource, written)}, "404", "410"),
                _path_params("{id}/{version_id}"),
            ),
        },
        f"/{type_}/$validate": {
            "post": _operation(
                f"validate-{type_}",
                f"$validate a {type_} (nothing is stored)",
                tags,
                _responses({"200": _response("The validation outcome", outcome)}, "422", "415"),
                (),
                {"required": True, "content": _json({"oneOf": [resource, _ref("Parameters")]})},
            ),
        },
        f"/{type_}/{{id}}/$validate": {
            "post": _operation(
                f"validate-instance-{type_}",
                f"$validate against a stored {type_}",
                tags,
                _responses({"200": _response("The validation outcome", outcome)}, "404", "410", "422", "415"),
                _path_params("{id}"),
                {"required": False, "content": _json({"oneOf": [resource, _ref("Parameters")]})},
            ),
        },
    }


def _public_json(operation_id: str, summary: str) -> dict:
    return _operation(
        operation_id,
        summary,
        ["system"],
        {"200": {"description": summary, "content": {"application/json": {"schema": {"type": "object"}}}}},
        public=True,
    )


def _system_paths(registry: Registry) -> dict[str, dict]:
    bundle, outcome = _ref("Bundle"), _ref("OperationOutcome")
    tags = ["system"]
    paths = {
        "/metadata": {
            "get": _operation(
                "capabilities",
                "The CapabilityStatement (no token needed)",
                tags,
                {
                    "200": _response("The CapabilityStatement", _ref("CapabilityStatement")),
                    "406": _response(ERRORS["406"], outcome),
                    "default": _response("Error", outcome),
                },
                [_header("_format")],
                public=True,
            )
        },
        "/": {
            "get": _operation(
                "search-system",
                "Search across types (`_type`)",
                tags,
                _responses({"200": _response("A searchset Bundle", bundle)}),
                [
                    {
                        "name": "_type",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "Comma-separated resource types",
                    },
                    *[_header(name) for name in RESULT_PARAMS],
                ],
            ),
            "post": _operation(
                "batch-transaction",
                "A batch or transaction Bundle (R4 http.html#transaction)",
                tags,
                _responses(
                    {"200": _response("The batch-response or transaction-response", bundle)},
                    "404",
                    "409",
                    "412",
                    "422",
                    "413",
                    "415",
                ),
                [_header("Prefer")],
                {"required": True, "content": _json(bundle)},
            ),
        },
        "/.well-known/smart-configuration": {"get": _public_json("smart-configuration", "SMART App Launch discovery")},
        "/.well-known/openid-configuration": {"get": _public_json("openid-configuration", "OpenID discovery")},
        "/openapi.json": {"get": _public_json("openapi", "This document")},
        "/_history": {
            "get": _operation(
                "history-system",
                "History of every resource",
                tags,
                _responses({"200": _response("A history Bundle", bundle)}),
                [_header("_since"), _header("_count")],
            )
        },
    }
    if registry.get("Patient"):
        paths["/Patient/{id}/$everything"] = {
            "get": _operation(
                "everything-Patient",
                "Patient $everything: the patient's compartment",
                ["Patient"],
                _responses({"200": _response("A searchset Bundle", bundle)}, "404", "410"),
                [
                    *_path_params("{id}"),
                    _header("_since"),
                    _header("_count"),
                    {"name": "_type", "in": "query", "schema": {"type": "string"}},
                ],
            )
        }
        for type_ in registry.types:
            if "Patient" in registry.definitions[type_].compartments:
                paths[f"/Patient/{{id}}/{type_}"] = {
                    "get": _operation(
                        f"search-compartment-{type_}",
                        f"{type_} in one Patient's compartment",
                        [type_],
                        _responses({"200": _response("A searchset Bundle", bundle)}, "404"),
                        [*_path_params("{id}"), *_search_params(registry, type_)],
                    )
                }
    return paths


def _concrete_paths(rule: str) -> list[str]:
    """A URL rule as OpenAPI paths: each alternative of an any() converter its own path, others as {name}."""
    rule = rule.replace("<compartment_id>", "<id>")
    choice = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if choice:
        return [
            path
            for option in choice.group(1).split(",")
            for path in _concrete_paths(rule[: choice.start()] + option.strip().strip("'\"") + rule[choice.end() :])
        ]
    return [re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule)]


def _undescribed(rules, described: dict[str, dict]) -> dict[str, dict]:
    """Routes of the app under /fhir that the table does not describe: path, methods and OperationOutcome errors."""
    paths: dict[str, dict] = {}
    for rule in rules:
        if not rule.rule.startswith(PREFIX) or rule.rule.endswith("/"):
            continue
        for path in _concrete_paths(rule.rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method.lower() in described.get(path, {}):
                    continue
                paths.setdefault(path, {})[method.lower()] = _operation(
                    f"{method.lower()}-{path}",
                    f"{method} {path}",
                    ["other"],
                    _responses({"200": _response("Success", {"type": "object"})}, "404", "422"),
                    _path_params(path),
                )
    return paths


def openapi_document(registry: Registry, base_url: str, version: str, rules=()) -> dict:
    """The document; `rules` are the app's URL rules (any not described here get a plain entry)."""
    relative = _system_paths(registry)
    for type_ in registry.types:
        relative.update(_type_paths(registry, type_))
    paths = {PREFIX + (path if path != "/" else ""): item for path, item in relative.items()}
    for path, item in _undescribed(rules, paths).items():
        paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "FHIR medication server",
            "version": version,
            "description": "FHIR R4 (4.0.1) REST API. Every error is an OperationOutcome. Every request but "
            "/metadata needs a SMART on FHIR Bearer access token.",
        },
        "servers": [{"url": base_url.removesuffix(PREFIX)}],
        "security": [{"smart": []}],
        "tags": [{"name": "system"}, *[{"name": type_} for type_ in registry.types]],
        "paths": paths,
        "components": {
            "schemas": schemas(registry),
            "parameters": parameters(),
            "headers": headers(),
            "securitySchemes": {"smart": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
