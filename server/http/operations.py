"""patch, conditional update/delete/patch, $everything and $validate (R4 http.html, operations.html)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request
from flask_smorest import Blueprint

from ..fhir.outcomes import BadRequest, Issue, operation_outcome
from ..interactions import conditional, everything, patch, validate
from .cascade import cascade_requested
from .negotiation import FHIR_JSON, JSON, JSON_PATCH, read_json_body
from .parameters import from_body
from .responses import fhir_response, parse_etag, resource_response
from .routes import _base, _ctx, _pairs
from .security import authenticate


def _criteria() -> str:
    """The query string of a conditional interaction, without the format parameters."""
    pairs = [(k, v) for k, v in _pairs() if k != "_cascade"]
    if not pairs:
        raise BadRequest("A conditional interaction needs search criteria in the URL")
    return urlencode(pairs)


def _patch_body():
    body = read_json_body(request, (JSON_PATCH, FHIR_JSON, JSON, "application/json+fhir"))
    return body, patch.patch_kind(request.mimetype, body)


def _if_match() -> str | None:
    return parse_etag(request.headers.get("If-Match"))


def operations_blueprint(resource_types: tuple[str, ...]) -> Blueprint:
    blp = Blueprint("fhir_operations", __name__, url_prefix="/fhir", description="FHIR patch, conditional, operations")
    blp.before_request(authenticate)
    type_ = f"<any({', '.join(resource_types)}):resource_type>"

    @blp.route(f"/{type_}", methods=["PUT", "DELETE", "PATCH"])
    def conditional_type_level(resource_type: str):
        """conditional update (PUT), conditional delete (DELETE), conditional patch (PATCH)"""
        if request.method == "PUT":
            written = conditional.conditional_update(
                _ctx(), resource_type, _criteria(), read_json_body(request), _if_match()
            )
            return resource_response(written.version, _base(), written.status, location=True)
        if request.method == "PATCH":
            body, kind = _patch_body()
            version = patch.conditional_patch(_ctx(), resource_type, _criteria(), body, kind, _if_match())
            return resource_response(version, _base(), 200, location=True)
        deleted = conditional.conditional_delete(_ctx(), resource_type, _criteria(), cascade_requested())
        message = (
            f"Deleted {', '.join(f'{v.resource_type}/{v.id}' for v in deleted)}"
            if deleted
            else "No resource matched; nothing was deleted"
        )
        return fhir_response(operation_outcome([Issue(message, "informational", "information")]))

    @blp.route(f"/{type_}/<id>", methods=["PATCH"])
    def instance_patch(resource_type: str, id: str):
        """patch: JSON Patch or FHIRPath Patch, honouring If-Match"""
        body, kind = _patch_body()
        return resource_response(
            patch.patch(_ctx(), resource_type, id, body, kind, _if_match()), _base(), 200, location=True
        )

    @blp.route("/Patient/<id>/$everything", methods=["GET"])
    def patient_everything(id: str):
        """Patient/$everything: the patient's compartment, paged"""
        return fhir_response(everything.patient_everything(_ctx(), id, _pairs()).to_bytes())

    @blp.route(f"/{type_}/$validate", methods=["POST"])
    def validate_type(resource_type: str):
        """$validate at the type level (mode create or general)"""
        return fhir_response(
            validate.validate(
                _ctx(),
                resource_type,
                None,
                from_body(read_json_body(request)),
                request.args.get("mode"),
                request.args.get("profile"),
            )
        )

    @blp.route(f"/{type_}/<id>/$validate", methods=["POST"])
    def validate_instance(resource_type: str, id: str):
        """$validate at the instance level (mode update or delete)"""
        body = from_body(read_json_body(request)) if request.content_length else None
        return fhir_response(
            validate.validate(_ctx(), resource_type, id, body, request.args.get("mode"), request.args.get("profile"))
        )

    return blp
