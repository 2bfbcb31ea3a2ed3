"""CDS Hooks 2.0 services order-select and order-sign: discovery and the call (cds-hooks.hl7.org/2.0)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..fhir.outcomes import BadRequest, FhirError, NotFound, PreconditionFailed
from ..interactions.context import RequestContext
from . import engine
from .cards import card, unchecked_card
from .current import current_medications, diagnoses
from .knowledge import Knowledge
from .medications import Medication, medication
from .records import fill_from_server, from_prefetch, from_server, prefetch_templates

SERVICES = {
    "medication-safety-order-select": {
        "hook": "order-select",
        "title": "Psychiatric medication safety (order select)",
        "description": "Interactions, duplicate therapy, diagnosis contraindications and age warnings for the "
        "selected draft MedicationRequests against the patient's current medications.",
    },
    "medication-safety-order-sign": {
        "hook": "order-sign",
        "title": "Psychiatric medication safety (order sign)",
        "description": "The order-select checks for every draft MedicationRequest, plus daily-dose limits.",
    },
}


@dataclass
class HookResult:
    response: dict
    issued: list[tuple[str, str]]  # (card uuid, rule id) for the feedback endpoint
    patient_id: str


def discovery() -> dict:
    """GET /cds-services (cds-hooks.hl7.org/2.0/#discovery)."""
    templates = prefetch_templates()
    return {"services": [{"id": id, "prefetch": templates, **service} for id, service in SERVICES.items()]}


def call(
    knowledge: Knowledge, service_id: str, request: object, ctx: RequestContext | None, today: date | None = None
) -> HookResult:
    """POST /cds-services/{id}: `ctx` reads the record when the prefetch lacks something (None: it cannot)."""
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"No CDS service '{service_id}'")
    today = today or date.today()
    context, patient_id = _validated(service["hook"], request)
    assert isinstance(request, dict)  # _validated refused anything else
    record = _record(request, patient_id, ctx)
    drafts = _drafts(knowledge, context, patient_id)
    selected = drafts
    if service["hook"] == "order-select":
        selections = set(context["selections"])
        selected = [d for d in drafts if d.reference in selections]
    others = [d for d in drafts if d not in selected] + current_medications(knowledge, record, today)
    checked = [d for d in selected if d.checked]
    alerts = engine.check(
        knowledge,
        checked,
        [m for m in others if m.checked],
        diagnoses(record),
        record.age(today),
        signing=service["hook"] == "order-sign",
    )
    draft_ids = {d.reference for d in drafts}
    cards, issued = [], []
    for alert in alerts:
        body = card(alert, draft_ids)
        cards.append(body)
        issued.append((body["uuid"], alert.rule.id))
    unchecked = [m for m in selected + others if not m.checked]
    if unchecked:
        body = unchecked_card(unchecked)
        cards.append(body)
        issued.append((body["uuid"], "not-checked"))
    return HookResult({"cards": cards}, issued, patient_id)


def _validated(hook: str, request: object) -> tuple[dict, str]:
    if not isinstance(request, dict):
        raise BadRequest("The request body must be a JSON object")
    if request.get("hook") != hook:
        raise BadRequest(f"hook must be '{hook}' for this service")
    if not isinstance(request.get("hookInstance"), str) or not request["hookInstance"]:
        raise BadRequest("hookInstance (a UUID) is required")
    if "fhirAuthorization" in request and not isinstance(request.get("fhirServer"), str):
        raise BadRequest("fhirServer is required when fhirAuthorization is sent")
    context = request.get("context")
    if not isinstance(context, dict):
        raise BadRequest("context is required")
    for name in ("userId", "patientId"):
        if not isinstance(context.get(name), str) or not context[name]:
            raise BadRequest(f"context.{name} is required")
    orders = context.get("draftOrders")
    if not isinstance(orders, dict) or orders.get("resourceType") != "Bundle":
        raise BadRequest("context.draftOrders must be a Bundle")
    if not isinstance(orders.get("entry", []), list):
        raise BadRequest("context.draftOrders.entry must be an array")
    if hook == "order-select" and (
        not isinstance(context.get("selections"), list) or not all(isinstance(s, str) for s in context["selections"])
    ):
        raise BadRequest("context.selections (an array of resource ids) is required for order-select")
    if "prefetch" in request and not isinstance(request["prefetch"], dict):
        raise BadRequest("prefetch must be an object")
    return context, context["patientId"].removeprefix("Patient/")


def _record(request: dict, patient_id: str, ctx: RequestContext | None):
    try:
        if isinstance(request.get("prefetch"), dict):
            record, missing = from_prefetch(request["prefetch"], patient_id)
            if missing:
                if ctx is None:
                    raise PreconditionFailed(f"prefetch lacks {', '.join(missing)} and no FHIR authorization was given")
                fill_from_server(ctx, record, missing)
            return record
        if ctx is None:
            raise PreconditionFailed("No prefetch and no FHIR authorization to read the patient's record with")
        return from_server(ctx, patient_id)
    except PreconditionFailed:
        raise
    except FhirError as error:
        if error.status in (401, 403, 404, 410):
            raise PreconditionFailed(
                f"The patient's record could not be read with the given authorization: {error}"
            ) from None
        raise


def _drafts(knowledge: Knowledge, context: dict, patient_id: str) -> list[Medication]:
    drafts = []
    for index, entry in enumerate(context["draftOrders"].get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise BadRequest(f"context.draftOrders.entry[{index}] has no resource")
        if resource.get("resourceType") != "MedicationRequest":
            continue  # ServiceRequest, NutritionOrder...: nothing for medication safety to check
        reference = (resource.get("subject") or {}).get("reference", "")
        if (
            reference
            and reference.removeprefix("Patient/") != patient_id
            and not reference.endswith(f"/Patient/{patient_id}")
        ):
            raise BadRequest(f"context.draftOrders.entry[{index}] is for another patient than context.patientId")
        resource = {**resource, "id": resource.get("id") or f"draft-{index}"}
        drafts.append(medication(knowledge, resource))
    return drafts
