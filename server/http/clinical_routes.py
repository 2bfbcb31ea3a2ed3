"""Medication-safety operations: Patient/{id}/$medication-review (and, below, the population operations)."""

from __future__ import annotations

from datetime import date

from flask import current_app, request
from flask_smorest import Blueprint

from ..clinical import populations
from ..clinical.review import medication_review
from ..fhir.outcomes import BadRequest
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
        pairs = _operation_parameters()
        start, end = _date_param(pairs, "period-start"), _date_param(pairs, "period-end")
        if start and end and start > end:
            raise BadRequest("period-start is after period-end", location="http.period-start")
        return fhir_response(medication_review(_ctx(), current_app.extensions["fhir.knowledge"], id, start, end))

    @blp.route("/Patient/$follow-up-gaps", methods=["GET"])
    def patient_follow_up_gaps():
        """Patient/$follow-up-gaps: psychiatric starts in the window without a follow-up visit"""
        pairs = _operation_parameters()
        knowledge = current_app.extensions["fhir.knowledge"]
        bundle = populations.follow_up_gaps(
            _ctx(),
            knowledge,
            _int_param(pairs, "started-within", 30, 1, 3650),
            _int_param(pairs, "follow-up-within", knowledge.follow_up.days, 1, 3650),
            _int_param(pairs, "_count", 100, 1, 1000),
            "/Patient/$follow-up-gaps",
            list(pairs.items()),
        )
        return fhir_response(bundle.to_bytes())

    @blp.route("/Group/<id>/$pdc", methods=["GET"])
    def group_pdc(id: str):
        """Group/$pdc: PQA PDC per member for a drug class, and the share at or above 0.8"""
        pairs = _operation_parameters()
        if not pairs.get("class"):
            raise BadRequest("class is required (e.g. antipsychotic)", location="http.class")
        end = _date_param(pairs, "period-end") or date.today()
        start = _date_param(pairs, "period-start") or date(end.year, 1, 1)
        return fhir_response(
            populations.group_pdc(_ctx(), current_app.extensions["fhir.knowledge"], id, pairs["class"], start, end)
        )

    return blp
