"""GET /metrics: Prometheus text format, for operators only: the FHIR_METRICS_TOKEN as a Bearer token when one
is configured, else callers on the loopback interface only."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from ..fhir.outcomes import Forbidden, Unauthorized
from ..metrics.registry import exposition

metrics = Blueprint("metrics", __name__)
LOOPBACK = ("127.0.0.1", "::1")
TOKEN = "fhir.metrics_token"


@metrics.get("/metrics")
def scrape():
    token = current_app.extensions[TOKEN]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized(
                "/metrics needs the operators' metrics token", headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
            )
    elif request.remote_addr not in LOOPBACK:
        raise Forbidden("/metrics answers only on the loopback interface unless FHIR_METRICS_TOKEN is set")
    body, content_type = exposition()
    return Response(body, content_type=content_type)
