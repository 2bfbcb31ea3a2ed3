"""Content negotiation (R4 http.html#mime-type): JSON only, in FHIR's or plain JSON's media type."""

from __future__ import annotations

from functools import lru_cache

import orjson
from flask import Request
from werkzeug.http import parse_options_header

from ..fhir.outcomes import BadRequest, NotAcceptable, UnsupportedMediaType

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
_FORMAT_ALIASES = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, JSON: JSON, "application/json+fhir": FHIR_JSON}
# Accept ranges answered, each with the media type sent back; */* and application/* get FHIR's own.
_ACCEPT_RANGES = {
    FHIR_JSON: FHIR_JSON,
    "application/json+fhir": FHIR_JSON,
    JSON: JSON,
    "application/*": FHIR_JSON,
    "*/*": FHIR_JSON,
}
_R4_VERSIONS = ("4.0", "4.0.1")


def response_content_type(request: Request) -> str:
    """The Content-Type to answer with; 406 when only another format (XML, Turtle) or FHIR version is acceptable."""
    requested = request.args.get("_format")
    if requested is not None:
        return _content_type_for_format(requested)
    return _content_type_for_accept(request.headers.get("Accept", ""))


@lru_cache(maxsize=64)
def _content_type_for_format(requested: str) -> str:
    requested_type, params = parse_options_header(requested)
    mimetype = _FORMAT_ALIASES.get(requested_type.lower())
    if mimetype is None:
        raise NotAcceptable(
            f"_format '{requested}' is not supported; this server speaks JSON only", location="http._format"
        )
    return _content_type(mimetype, _fhir_version(params, f"_format '{requested}'"))


@lru_cache(maxsize=256)
def _content_type_for_accept(header: str) -> str:
    """Parsing Accept costs more than the rest of a read's response; clients send few distinct ones.

    R4 http.html#mime-type: the charset parameter is allowed (FHIR is UTF-8 only); #version-parameter:
    fhirVersion=4.0 asks for R4 (another version is not acceptable), and is sent back in Content-Type."""
    best, best_rank, refused_version = None, None, False
    for media_range in filter(None, (part.strip() for part in header.split(","))):
        mimetype, params = parse_options_header(media_range)
        params = {key.lower(): value for key, value in params.items()}
        answer = _ACCEPT_RANGES.get(mimetype.lower())
        quality = _quality(params.get("q"))
        if answer is None or quality <= 0 or params.get("charset", "utf-8").lower() != "utf-8":
            continue
        version = params.get("fhirversion")
        if version is not None and version not in _R4_VERSIONS:
            refused_version = True
            continue
        rank = (quality, answer == FHIR_JSON, version is not None)
        if best_rank is None or rank > best_rank:
            best, best_rank = _content_type(answer, version), rank
    if best is not None:
        return best
    if not header.strip():
        return _content_type(FHIR_JSON, None)
    if refused_version:
        raise NotAcceptable(f"Cannot answer in {header}; this server speaks FHIR R4 (fhirVersion=4.0) only")
    raise NotAcceptable(f"Cannot answer in {header}; this server speaks JSON only")


def _fhir_version(params: dict, what: str) -> str | None:
    version = {key.lower(): value for key, value in params.items()}.get("fhirversion")
    if version is not None and version not in _R4_VERSIONS:
        raise NotAcceptable(f"{what}: this server speaks FHIR R4 (fhirVersion=4.0) only", location="http._format")
    return version


def _quality(text: str | None) -> float:
    try:
        return min(max(float(text), 0.0), 1.0) if text is not None else 1.0
    except ValueError:
        return 0.0


def _content_type(mimetype: str, fhir_version: str | None) -> str:
    return f"{mimetype}; charset=utf-8" + (f"; fhirVersion={fhir_version}" if fhir_version else "")


def read_json_body(request: Request, allowed: tuple[str, ...] = (FHIR_JSON, JSON, "application/json+fhir")):
    """The parsed JSON body; 415 for another media type, 400 when it does not parse."""
    mimetype = request.mimetype
    if mimetype and mimetype not in allowed:
        raise UnsupportedMediaType(f"Content-Type '{mimetype}' is not supported; send {allowed[0]}")
    data = request.get_data(cache=False)
    if not data:
        raise BadRequest("The request has no body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The body is not valid JSON: {error}") from None
