"""`_cascade=delete` on DELETE: delete the referrers too, where the server allows it."""

from __future__ import annotations

from flask import current_app, request

from ..fhir.outcomes import BadRequest


def cascade_requested() -> bool:
    value = request.args.get("_cascade")
    if value is None:
        return False
    if value != "delete":
        raise BadRequest("_cascade must be 'delete'", location="http._cascade")
    if not current_app.extensions["fhir.services"].allow_cascade_delete:
        raise BadRequest(
            "Cascading delete is disabled on this server (FHIR_ALLOW_CASCADE_DELETE)", location="http._cascade"
        )
    return True
