"""The OpenAPI document at /fhir/openapi.json (and /openapi.json), and browsable docs at /docs."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app

from ..interactions.capabilities import SOFTWARE_VERSION
from .openapi import openapi_document

openapi = Blueprint("openapi", __name__)
_DOCUMENT = "fhir.openapi"
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FHIR medication server: API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css"></head>
<body><div id="docs"></div><noscript>The document itself: <a href="fhir/openapi.json">fhir/openapi.json</a></noscript>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "fhir/openapi.json", dom_id: "#docs"}});</script></body></html>"""


def _document() -> bytes:
    cached = current_app.extensions.get(_DOCUMENT)
    if cached is None:
        services = current_app.extensions["fhir.services"]
        cached = orjson.dumps(
            openapi_document(services.registry, services.base_url, SOFTWARE_VERSION, current_app.url_map.iter_rules())
        )
        current_app.extensions[_DOCUMENT] = cached
    return cached


@openapi.get("/openapi.json")
@openapi.get("/fhir/openapi.json")
def document():
    return Response(_document(), content_type="application/json")


@openapi.get("/docs")
def docs():
    return Response(_PAGE, content_type="text/html; charset=utf-8")
