"""FHIR REST routes (R4 http.html): parse, call one interaction, render."""

from __future__ import annotations

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from ..audit.middleware import ACCESS
from ..fhir.outcomes import Issue, operation_outcome
from ..interactions import conditional, conformance_resources, history, read, search, write
from ..interactions.capabilities import capability_statement
from ..interactions.context import RequestContext
from .access_log import request_id
from .cascade import cascade_requested
from .negotiation import read_json_body
from .responses import etag, fhir_response, not_modified, parse_etag, prefer, resource_response
from .security import authenticate


def _ctx() -> RequestContext:
    return RequestContext(
        current_app.extensions["fhir.services"],
        g.guard,
        request_id(request.environ),
        strict=_strict(),
        access=request.environ.get(ACCESS),
    )


def _base() -> str:
    return current_app.extensions["fhir.services"].base_url


def _pairs() -> list[tuple[str, str]]:
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += list(request.form.items(multi=True))
    return [(k, v) for k, v in pairs if k not in ("_format", "_pretty")]


def _strict() -> bool:
    return prefer("handling") == "strict"


def fhir_blueprint(resource_types: tuple[str, ...]) -> Blueprint:
    blp = Blueprint("fhir", __name__, url_prefix="/fhir", description="FHIR R4 REST API")
    blp.before_request(authenticate)
    type_ = f"<any({', '.join(resource_types)}):resource_type>"

    @blp.route("/metadata", methods=["GET"])
    def metadata():
        """capabilities: the CapabilityStatement (public)"""
        services = current_app.extensions["fhir.services"]
        return fhir_response(
            capability_statement(
                services.registry,
                _base(),
                services.allow_multiple_delete,
                not services.allow_dangling_references,
                conformance_resources.supported_profiles(services, services.registry.types),
                conformance_resources.capability_entries(),
                services.cors,
            )
        )

    @blp.route("", methods=["GET"])
    def system_search():
        """search-system: GET /fhir?_type=...; only parameters common to the types"""
        return fhir_response(search.search_system(_ctx(), _pairs(), _strict()).to_bytes())

    @blp.route(f"/<any(Patient):compartment_type>/<compartment_id>/{type_}", methods=["GET"])
    def compartment_search(compartment_type: str, compartment_id: str, resource_type: str):
        """compartment search: GET /fhir/Patient/7/MedicationRequest"""
        return fhir_response(
            search.search_compartment(
                _ctx(), compartment_type, compartment_id, resource_type, _pairs(), _strict()
            ).to_bytes()
        )

    @blp.route("/_history", methods=["GET"])
    def system_history():
        """history-system"""
        return fhir_response(history.history_system(_ctx(), _pairs()).to_bytes())

    @blp.route(f"/{type_}", methods=["GET", "POST"])
    def type_level(resource_type: str):
        """search-type (GET) or create (POST)"""
        if request.method == "GET":
            return fhir_response(search.search_type(_ctx(), resource_type, _pairs(), _strict()).to_bytes())
        if request.headers.get("If-None-Exist"):  # conditional create (http.html#ccreate)
            written = conditional.conditional_create(
                _ctx(), resource_type, read_json_body(request), request.headers["If-None-Exist"]
            )
            return resource_response(written.version, _base(), written.status, location=True)
        version = write.create(_ctx(), resource_type, read_json_body(request))
        return resource_response(version, _base(), 201, location=True)

    @blp.route(f"/{type_}/_search", methods=["POST"])
    def type_search(resource_type: str):
        """search-type by POST with form-encoded parameters"""
        return fhir_response(search.search_type(_ctx(), resource_type, _pairs(), _strict()).to_bytes())

    @blp.route(f"/{type_}/_history", methods=["GET"])
    def type_history(resource_type: str):
        """history-type"""
        return fhir_response(history.history_type(_ctx(), resource_type, _pairs()).to_bytes())

    @blp.route(f"/{type_}/<id>", methods=["GET", "PUT", "DELETE"])
    def instance(resource_type: str, id: str):
        """read (GET), update (PUT), delete (DELETE)"""
        if request.method == "GET":
            version = read.read(_ctx(), resource_type, id)
            if not_modified(version):
                return Response(status=304, headers={"ETag": etag(version.version_id)})
            return resource_response(version, _base())
        if request.method == "PUT":
            version, created = write.update(
                _ctx(), resource_type, id, read_json_body(request), parse_etag(request.headers.get("If-Match"))
            )
            return resource_response(version, _base(), 201 if created else 200, location=True)
        deleted = write.delete(
            _ctx(), resource_type, id, parse_etag(request.headers.get("If-Match")), cascade_requested()
        )
        message = f"{resource_type}/{id} deleted" if deleted else f"{resource_type}/{id} was already deleted"
        return fhir_response(operation_outcome([Issue(message, "informational", "information")]))

    @blp.route(f"/{type_}/<id>/_history", methods=["GET"])
    def instance_history(resource_type: str, id: str):
        """history-instance"""
        return fhir_response(history.history_instance(_ctx(), resource_type, id, _pairs()).to_bytes())

    @blp.route(f"/{type_}/<id>/_history/<version_id>", methods=["GET"])
    def instance_version(resource_type: str, id: str, version_id: str):
        """vread"""
        return resource_response(read.vread(_ctx(), resource_type, id, version_id), _base())

    return blp
