"""Liveness and readiness probes, at the server root."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    ready = current_app.extensions["fhir.services"].database.is_ready()
    return jsonify(status="ready" if ready else "database unavailable"), 200 if ready else 503
