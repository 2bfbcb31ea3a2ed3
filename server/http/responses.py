"""FHIR responses: the stored JSON text as the body, with ETag, Last-Modified, Location and Prefer."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime

import orjson
from flask import Response, request
from werkzeug.http import parse_date

from ..fhir.outcomes import Issue, operation_outcome
from ..interactions.repository import Version
from .negotiation import FHIR_JSON, response_content_type


def prefer(name: str) -> str | None:
    """A token of the Prefer header (RFC 7240), e.g. prefer('return') -> 'minimal'."""
    for part in request.headers.get("Prefer", "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    return None


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'


def http_date(version: Version) -> str:
    return format_datetime(version.last_updated.astimezone(UTC), usegmt=True)


def fhir_response(body: bytes | str | dict, status: int = 200, headers: dict | None = None) -> Response:
    content_type = response_content_type(request) if request else f"{FHIR_JSON}; charset=utf-8"
    if isinstance(body, dict):
        body = orjson.dumps(body)
    if request.args.get("_pretty") == "true":
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
    return Response(body, status=status, headers=headers, content_type=content_type)


def version_headers(version: Version, base_url: str, location: bool) -> dict:
    headers = {"ETag": etag(version.version_id), "Last-Modified": http_date(version)}
    if location:
        headers["Location"] = f"{base_url}/{version.resource_type}/{version.id}/_history/{version.version_id}"
    return headers


def resource_response(version: Version, base_url: str, status: int = 200, location: bool = False) -> Response:
    """The version as stored; after a write, honour `Prefer: return=` (R4 http.html#ops)."""
    headers = version_headers(version, base_url, location)
    returning = prefer("return") if location else None
    if returning == "minimal":
        return Response(status=status, headers=headers)
    if returning == "OperationOutcome":
        outcome = operation_outcome(
            [
                Issue(
                    f"{version.resource_type}/{version.id} stored as version {version.version_id}",
                    "informational",
                    "information",
                )
            ]
        )
        return fhir_response(outcome, status, headers)
    assert version.content is not None  # a stored version, not a deletion
    return fhir_response(version.content, status, headers)


def not_modified(version: Version) -> bool:
    """Conditional read (R4 http.html#cread): If-None-Match, else If-Modified-Since (RFC 9110 13.1.3:
    If-None-Match wins when both are sent); HTTP dates have whole seconds."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return parse_etag(if_none_match) == str(version.version_id)
    since = parse_date(request.headers.get("If-Modified-Since"))
    return since is not None and version.last_updated.replace(microsecond=0) <= since


def parse_etag(value: str | None) -> str | None:
    """The version in an If-Match / If-None-Match value: W/"3", "3" or 3."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')
