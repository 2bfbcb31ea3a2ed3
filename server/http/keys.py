"""The public JWKS that verifies the server's tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

keys = Blueprint("keys", __name__)


@keys.get("/auth/jwks.json")
def jwks():
    return jsonify(current_app.extensions["fhir.tokens"].public_jwks())
