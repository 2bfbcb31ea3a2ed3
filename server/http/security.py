"""The resource-server check: every FHIR request but the public ones carries a valid Bearer token."""
from __future__ import annotations

from flask import current_app, g, request

from ..auth.policy import AccessPolicy
from ..auth.tokens import TokenService, bearer_challenge
from ..fhir.outcomes import Unauthorized

PUBLIC_ENDPOINTS = frozenset({"fhir.metadata"})


def authenticate() -> None:
    """Blueprint before_request hook: put the request's AccessPolicy on flask.g, or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("This request needs a Bearer access token", headers=bearer_challenge())
    tokens: TokenService = current_app.extensions["fhir.tokens"]
    practitioner_access = current_app.extensions["fhir.services"].practitioner_access
    g.policy = AccessPolicy.from_claims(tokens.verify(token.strip()), practitioner_access=practitioner_access)
