"""SMART discovery (conformance.html): /fhir/.well-known/smart-configuration and the OpenID Connect
configuration, JSON whatever the Accept header, public, with CORS (as is /fhir/metadata)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from ..auth.endpoints import AuthEndpoints, openid_configuration, smart_configuration

discovery = Blueprint("smart_discovery", __name__, url_prefix="/fhir/.well-known")
_CORS_PATHS = ("/fhir/metadata", "/fhir/.well-known/")


def _endpoints() -> AuthEndpoints:
    return current_app.extensions["fhir.auth"].server.endpoints


@discovery.get("/smart-configuration")
def smart_config():
    return jsonify(smart_configuration(_endpoints()))


@discovery.get("/openid-configuration")
def openid_config():
    return jsonify(openid_configuration(_endpoints()))


@discovery.after_app_request
def cors_for_discovery(response: Response) -> Response:
    """Browser apps read discovery and metadata cross-origin (app-launch.html, CORS)."""
    if request.path.startswith(_CORS_PATHS):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
