"""CDS Hooks 2.0 at the server root: discovery, the services and their feedback (cds-hooks.hl7.org/2.0)."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from ..audit.middleware import ACCESS
from ..auth.cds_clients import verify_cds_jwt
from ..auth.clients import ClientRegistry
from ..auth.guard import Guard
from ..auth.tokens import TokenService, bearer_challenge
from ..clinical import cds_hooks
from ..fhir.outcomes import BadRequest, FhirError, Unauthorized
from ..interactions import cds_feedback
from ..interactions.context import RequestContext
from .access_log import request_id

cds = Blueprint("cds_hooks", __name__)


def _json(body, status: int = 200, headers=None) -> Response:
    return Response(orjson.dumps(body), status, headers or {}, mimetype="application/json")


@cds.errorhandler(FhirError)
def _error(error: FhirError):
    """CDS Hooks errors are plain JSON, not OperationOutcomes."""
    return _json({"error": str(error)}, error.status, error.headers)


@cds.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _json({"error": error.description or error.name}, error.code or 500)


def _services():
    return current_app.extensions["fhir.services"]


def _root_url() -> str:
    """The server root the public base URL hangs from (FHIR_BASE_URL minus /fhir)."""
    return _services().base_url.rstrip("/").removesuffix("/fhir")


def _guard(claims: dict) -> Guard:
    return Guard.from_claims(claims, _services().base_url, _services().practitioner_access)


def _caller() -> Guard | None:
    """The caller: one of this server's access tokens (its guard), or a registered CDS client's JWT (None)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("CDS Hooks calls need a Bearer access token or a CDS client JWT", headers=bearer_challenge())
    tokens: TokenService = current_app.extensions["fhir.tokens"]
    if _issuer(token) == tokens.issuer:
        return _guard(tokens.verify(token))
    clients = current_app.extensions.setdefault("fhir.cds_clients", ClientRegistry(_services().database))
    verify_cds_jwt(_services().database, clients, token, _root_url() + request.path)
    return None


def _issuer(token: str) -> str | None:
    from joserfc import jws

    try:
        claims = orjson.loads(jws.extract_compact(token.encode()).payload)
    except Exception:  # noqa: BLE001 not a JWS at all: neither kind of token
        return None
    return claims.get("iss") if isinstance(claims, dict) else None


def _data_context(body: object, caller: Guard | None) -> RequestContext | None:
    """fhirAuthorization's token when it is for this server, else the caller's own token (if it is ours)."""
    guard = caller
    if isinstance(body, dict) and isinstance(body.get("fhirAuthorization"), dict):
        token = body["fhirAuthorization"].get("access_token")
        server = str(body.get("fhirServer", "")).rstrip("/")
        if not isinstance(token, str) or not token:
            raise BadRequest("fhirAuthorization.access_token is required")
        if server == _services().base_url.rstrip("/"):
            guard = _guard(current_app.extensions["fhir.tokens"].verify(token))
    if guard is None:
        return None
    access = request.environ.get(ACCESS)
    if access is not None:  # who, for the call's AuditEvent
        access.policy = guard.policy
    return RequestContext(_services(), guard, request_id(request.environ), access=access)


def _body() -> object:
    if not request.data:
        raise BadRequest("The request needs a JSON body")
    try:
        return orjson.loads(request.data)
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON") from None


@cds.route("/cds-services", methods=["GET"])
def discovery():
    """Discovery: the services, their hooks and prefetch templates"""
    _caller()
    return _json(cds_hooks.discovery())


@cds.route("/cds-services/<service_id>", methods=["POST"])
def service(service_id: str):
    """Call a service with a hook request; answers cards"""
    caller = _caller()
    if service_id not in cds_hooks.SERVICES:
        return _json({"error": f"No CDS service '{service_id}'"}, 404)
    body = _body()
    result = cds_hooks.call(current_app.extensions["fhir.knowledge"], service_id, body, _data_context(body, caller))
    access = request.environ.get(ACCESS)
    if access is not None:  # the context patient, whether its record was prefetched or read (IHE BALP)
        access.patients.add(result.patient_id)
    cds_feedback.record_cards(_services().database, service_id, result.patient_id, result.issued)
    return _json(result.response)


@cds.route("/cds-services/<service_id>/feedback", methods=["POST"])
def feedback(service_id: str):
    """Feedback: accepted or overridden cards"""
    _caller()
    if service_id not in cds_hooks.SERVICES:
        return _json({"error": f"No CDS service '{service_id}'"}, 404)
    count = cds_feedback.record_feedback(_services().database, service_id, _body())
    return _json({"stored": count})
