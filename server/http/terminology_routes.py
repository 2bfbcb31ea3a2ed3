"""The shipped conformance resources, read-only (StructureDefinition, ValueSet, CodeSystem: read,
search), and the terminology operations on them ($expand, $validate-code, $lookup)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ..fhir.outcomes import BadRequest
from ..interactions import conformance_resources, terminology
from .negotiation import read_json_body
from .parameters import from_body
from .responses import fhir_response
from .routes import _ctx, _pairs
from .security import authenticate

_TYPES = f"<any({', '.join(conformance_resources.CONFORMANCE_TYPES)}):resource_type>"


def operation_parameters() -> dict:
    """name -> value of an operation's parameters: the query string (GET) or a Parameters body (POST)
    (R4 operations.html#request); a resource-valued parameter's value is the resource."""
    params: dict = {k: v for k, v in request.args.items() if k not in ("_format", "_pretty")}
    if request.method == "POST":
        body = from_body(read_json_body(request))
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise BadRequest("The body of an operation must be a Parameters resource")
        for parameter in body.get("parameter") or []:
            if isinstance(parameter, dict) and parameter.get("name"):
                value = parameter.get("resource")
                if value is None:
                    value = next((v for k, v in parameter.items() if k.startswith("value")), None)
                params[parameter["name"]] = value
    return params


def terminology_blueprint() -> Blueprint:
    blp = Blueprint(
        "fhir_terminology",
        __name__,
        url_prefix="/fhir",
        description="Shipped conformance resources (read-only) and terminology operations",
    )
    blp.before_request(authenticate)

    @blp.route("/ValueSet/$expand", methods=["GET", "POST"])
    @blp.route("/ValueSet/<id>/$expand", methods=["GET", "POST"])
    def value_set_expand(id: str | None = None):
        """ValueSet/$expand: a shipped value set's expansion (filter, offset, count)"""
        return fhir_response(terminology.expand(_ctx(), id, operation_parameters()))

    @blp.route("/ValueSet/$validate-code", methods=["GET", "POST"])
    @blp.route("/ValueSet/<id>/$validate-code", methods=["GET", "POST"])
    def value_set_validate_code(id: str | None = None):
        """ValueSet/$validate-code: is the code (coding, codeableConcept) in a shipped value set?"""
        return fhir_response(terminology.validate_code(_ctx(), id, operation_parameters()))

    @blp.route("/CodeSystem/$lookup", methods=["GET", "POST"])
    def code_system_lookup():
        """CodeSystem/$lookup: display and definition of a code of a shipped code system"""
        return fhir_response(terminology.lookup(_ctx(), operation_parameters()))

    @blp.route(f"/{_TYPES}", methods=["GET"])
    def conformance_search(resource_type: str):
        """search: shipped StructureDefinitions, ValueSets, CodeSystems (url, version, name, type)"""
        return fhir_response(conformance_resources.search(_ctx(), resource_type, _pairs()))

    @blp.route(f"/{_TYPES}/<id>", methods=["GET"])
    def conformance_read(resource_type: str, id: str):
        """read: a shipped StructureDefinition, ValueSet or CodeSystem"""
        return fhir_response(conformance_resources.read(_ctx(), resource_type, id))

    return blp
