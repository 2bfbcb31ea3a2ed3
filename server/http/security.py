"""The resource-server check: every FHIR request but the public ones carries a valid Bearer token."""
from __future__ import annotations

from flask import current_app, g, request

from ..auth.policy import AccessPolicy
from ..auth.tokens import TokenService, bearer_challenge
from ..fhir.outcomes import Unauthorized

PUBLIC_ENDPOINTS = frozenset({"fhir.metadata"})


def bearer_policy(purpose: str = "This request") -> AccessPolicy:
    """The AccessPolicy of the request's Bearer token, or 401 with a Bearer challenge."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(f"{purpose} needs a Bearer access token", headers=bearer_challenge())
    tokens: TokenService = current_app.extensions["fhir.tokens"]
    practitioner_access = current_app.extensions["fhir.services"].practitioner_access
    return AccessPolicy.from_claims(tokens.verify(token.strip()), practitioner_access=practitioner_access)


def authenticate() -> None:
    """Blueprint before_request hook: put the request's AccessPolicy on flask.g, or answer 401."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        g.policy = bearer_policy()
