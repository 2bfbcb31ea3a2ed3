"""SMART discovery (conformance.html): /fhir/.well-known/smart-configuration and the OpenID Connect
configuration, JSON whatever the Accept header, public (CORS: see cors.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..auth.endpoints import AuthEndpoints, openid_configuration, smart_configuration

discovery = Blueprint("smart_discovery", __name__, url_prefix="/fhir/.well-known")


def _endpoints() -> AuthEndpoints:
    return current_app.extensions["fhir.auth"].server.endpoints


@discovery.get("/smart-configuration")
def smart_config():
    return jsonify(smart_configuration(_endpoints()))


@discovery.get("/openid-configuration")
def openid_config():
    return jsonify(openid_configuration(_endpoints()))
