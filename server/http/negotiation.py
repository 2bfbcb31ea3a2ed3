"""Content negotiation (R4 http.html#mime-type): JSON only, in FHIR's or plain JSON's media type."""
from __future__ import annotations

from functools import lru_cache

import orjson
from flask import Request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..fhir.outcomes import BadRequest, NotAcceptable, UnsupportedMediaType

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
_FORMAT_ALIASES = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, JSON: JSON, "application/json+fhir": FHIR_JSON}
_ACCEPTABLE = (FHIR_JSON, JSON, "application/json+fhir")


def response_mimetype(request: Request) -> str:
    """The JSON media type to answer with; 406 when only another format (XML, Turtle) is acceptable."""
    requested = request.args.get("_format")
    if requested is not None:
        mimetype = _FORMAT_ALIASES.get(requested.split(";")[0].strip())
        if mimetype is None:
            raise NotAcceptable(f"_format '{requested}' is not supported; this server speaks JSON only",
                                expression="_format")
        return mimetype
    return _mimetype_for_accept(request.headers.get("Accept", ""))


@lru_cache(maxsize=256)
def _mimetype_for_accept(header: str) -> str:
    """Parsing Accept costs more than the rest of a read's response; clients send few distinct ones."""
    accept = parse_accept_header(header, MIMEAccept)
    if not accept or not accept.provided:
        return FHIR_JSON
    best = accept.best_match(_ACCEPTABLE)
    if best is None:
        raise NotAcceptable(f"Cannot answer in {header}; this server speaks JSON only")
    return JSON if best == JSON and accept[FHIR_JSON] < accept[JSON] else FHIR_JSON


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
