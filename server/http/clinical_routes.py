"""Medication-safety operations: Patient/{id}/$medication-review (and, below, the population operations)."""

from __future__ import annotations

from datetime import date

from flask import current_app, request
from flask_smorest import Blueprint

from ..clinical import populations
from ..clinical.review import medication_review
from ..fhir.outcomes import BadRequest
from ..interactions.conformance_resources import operation_definition
from .negotiation import read_json_body
from .parameters import from_body
from .responses import fhir_response
from .routes import _ctx
from .security import authenticate


def _date_param(pairs: dict, name: str) -> date | None:
    value = pairs.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)", location=f"http.{name}") from None


def _operation_parameters() -> dict:
    """Query parameters, and for POST the Parameters body's primitive values (R4 operations.html#request)."""
    pairs = {k: v for k, v in request.args.items() if k not in ("_format", "_pretty")}
    if request.method == "POST" and request.content_length:
        body = from_body(read_json_body(request))
        if body.get("resourceType") != "Parameters":
            raise BadRequest("The body of an operation POST must be a Parameters resource")
        for parameter in body.get("parameter") or []:
            values = [v for k, v in parameter.items() if k.startswith("value")]
            if values and isinstance(values[0], (str, int, float, bool)):
                pairs[parameter.get("name")] = str(values[0])
    return pairs


def _declared(definition_id: str, pairs: dict) -> dict:
    """The parameters, checked against the operation's OperationDefinition (profiles/OperationDefinition/): an
    unknown one, or a required one missing, is a 400 naming it, so that a misspelt parameter is never ignored."""
    definition = operation_definition(_ctx(), definition_id)
    accepted = {p["name"]: p for p in definition["parameter"] if p["use"] == "in"}
    for name in pairs:
        if name not in accepted:
            raise BadRequest(
                f"Unknown parameter '{name}' for ${definition['code']}; it takes {', '.join(accepted)}",
                location=f"http.{name}",
            )
    for name, parameter in accepted.items():
        if parameter["min"] > 0 and not pairs.get(name):
            raise BadRequest(f"{name} is required: {parameter.get('documentation', '')}", location=f"http.{name}")
    return pairs


def _int_param(pairs: dict, name: str, default: int, low: int, high: int) -> int:
    value = pairs.get(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", location=f"http.{name}")
    return int(value)


def clinical_blueprint() -> Blueprint:
    blp = Blueprint("fhir_clinical", __name__, url_prefix="/fhir", description="Medication-safety operations")
    blp.before_request(authenticate)

    @blp.route("/Patient/<id>/$medication-review", methods=["GET", "POST"])
    def patient_medication_review(id: str):
        """Patient/$medication-review: diagnoses, reconciled medications, alerts, adherence, follow-up"""
        pairs = _declared("Patient-medication-review", _operation_parameters())
        start, end = _date_param(pairs, "period-start"), _date_param(pairs, "period-end")
        if start and end and start > end:
            raise BadRequest("period-start is after period-end", location="http.period-start")
        return fhir_response(medication_review(_ctx(), current_app.extensions["fhir.knowledge"], id, start, end))

    @blp.route("/Patient/$follow-up-gaps", methods=["GET"])
    def patient_follow_up_gaps():
        """Patient/$follow-up-gaps: psychiatric starts in the window without a follow-up visit"""
        pairs = _declared("Patient-follow-up-gaps", _operation_parameters())
        knowledge = current_app.extensions["fhir.knowledge"]
        bundle = populations.follow_up_gaps(
            _ctx(),
            knowledge,
            _int_param(pairs, "started-within", 30, 1, 3650),
            _int_param(pairs, "follow-up-within", knowledge.follow_up.days, 1, 3650),
            _int_param(pairs, "_count", 100, 1, 1000),
            "/Patient/$follow-up-gaps",
            list(pairs.items()),
            pairs.get("_cursor"),
        )
        return fhir_response(bundle.to_bytes())

    @blp.route("/Group/<id>/$pdc", methods=["GET"])
    def group_pdc(id: str):
        """Group/$pdc: PQA PDC per member for a drug class, and the share at or above 0.8"""
        pairs = _declared("Group-pdc", _operation_parameters())
        end = _date_param(pairs, "period-end") or date.today()
        start = _date_param(pairs, "period-start") or date(end.year, 1, 1)
        return fhir_response(
            populations.group_pdc(_ctx(), current_app.extensions["fhir.knowledge"], id, pairs["class"], start, end)
        )

    return blp
