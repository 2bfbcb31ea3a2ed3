"""The resource-server check: every FHIR request but the public ones carries a valid Bearer token."""

from __future__ import annotations

from flask import current_app, g, request

from ..audit.middleware import ACCESS
from ..auth.guard import Guard
from ..auth.tokens import TokenService, bearer_challenge
from ..fhir.outcomes import Unauthorized

PUBLIC_ENDPOINTS = frozenset({"fhir.metadata"})


def bearer_guard(purpose: str = "This request") -> Guard:
    """The guard of the request's Bearer token, or 401 with a Bearer challenge."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(f"{purpose} needs a Bearer access token", headers=bearer_challenge())
    tokens: TokenService = current_app.extensions["fhir.tokens"]
    services = current_app.extensions["fhir.services"]
    guard = Guard.from_claims(tokens.verify(token.strip()), services.base_url, services.practitioner_access)
    access = request.environ.get(ACCESS)
    if access is not None:  # who, for the request's AuditEvent
        access.policy = guard.policy
    return guard


def authenticate() -> None:
    """Blueprint before_request hook: put the request's guard on flask.g, or answer 401."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        g.guard = bearer_guard()
