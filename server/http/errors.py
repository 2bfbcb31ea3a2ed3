"""Every error leaves as an OperationOutcome with its status; never a stack trace."""

from __future__ import annotations

import logging

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..fhir.outcomes import FhirError, Issue, operation_outcome
from ..metrics import registry as metrics
from ..storage.database import DatabaseUnavailable, TransactionConflict
from .negotiation import FHIR_JSON
from .parameters import pointed

log = logging.getLogger("server.http")
RETRY_AFTER_SECONDS = 5
_HTTP_CODES = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}


def outcome_response(status: int, issues: list[Issue], headers: dict | None = None) -> Response:
    response = Response(orjson.dumps(operation_outcome(issues)), status=status, headers=headers)
    response.headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
    return response


def _fhir_error(error: FhirError) -> Response:
    return outcome_response(error.status, pointed(error.issues), error.headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = error.description or error.name
    if status == 404:
        message = f"No FHIR endpoint at {request.path}: unknown resource type or path"
    elif status == 405:
        message = f"{request.method} is not supported on {request.path}"
    valid_methods = getattr(error, "valid_methods", None)  # only MethodNotAllowed has them
    headers = {"Allow": ", ".join(valid_methods)} if valid_methods else None
    return outcome_response(status, [Issue(message, _HTTP_CODES.get(status, "processing"))], headers)


def _conflict(error: TransactionConflict) -> Response:
    """A deadlock with a concurrent write: PostgreSQL rolled this one back; the client may resend it."""
    metrics.DATABASE_ERRORS.labels("conflict").inc()
    return outcome_response(
        409, [Issue(f"Conflicted with a concurrent write and was not applied; send it again ({error})", "conflict")]
    )


def _unavailable(error: DatabaseUnavailable) -> Response:
    """PostgreSQL unreachable: 503 at once (RFC 9110 section 15.6.4), the client may retry; /readyz says the same."""
    metrics.DATABASE_ERRORS.labels("unavailable").inc()
    log.warning("database unavailable", extra={"path": request.path, "method": request.method, "error": str(error)})
    return outcome_response(
        503,
        [Issue("The database is unavailable; the request was not completed, send it again later", "transient")],
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.path, "method": request.method})
    return outcome_response(500, [Issue("Internal server error; the request was not completed", "exception", "fatal")])


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(FhirError, _fhir_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TransactionConflict, _conflict)
    app.register_error_handler(DatabaseUnavailable, _unavailable)
    app.register_error_handler(Exception, _unexpected)
