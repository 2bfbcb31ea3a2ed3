"""A patient's medication record, read through the interactions (so the access policy applies) or taken from
a CDS Hooks prefetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import orjson

from ..fhir.outcomes import FhirError
from ..interactions import read, search
from ..interactions.context import RequestContext

# (prefetch key, resource type, search parameters besides patient); "patient" is a read
QUERIES = {
    "medicationRequests": ("MedicationRequest", (("status", "active"),)),
    "medicationStatements": ("MedicationStatement", (("status", "active"),)),
    "medicationDispenses": ("MedicationDispense", (("status", "completed"),)),
    "conditions": ("Condition", (("clinical-status", "active,recurrence,relapse"),)),
}
PAGE = "1000"
ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}
NOT_A_DIAGNOSIS = {"entered-in-error", "refuted"}


@dataclass
class PatientRecord:
    patient_id: str
    patient: dict | None = None
    resources: dict[str, list[dict]] = field(default_factory=lambda: {key: [] for key in QUERIES})

    def age(self, today: date) -> int | None:
        birth = (self.patient or {}).get("birthDate")
        if not isinstance(birth, str) or len(birth) < 4:
            return None
        try:
            born = date.fromisoformat(birth if len(birth) == 10 else f"{birth[:4]}-07-01")
        except ValueError:
            return None
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def active_conditions(self) -> list[dict]:
        return [c for c in self.resources["conditions"] if _active_condition(c)]


def _active_condition(condition: dict) -> bool:
    clinical = {c.get("code") for c in (condition.get("clinicalStatus") or {}).get("coding") or []}
    verification = {c.get("code") for c in (condition.get("verificationStatus") or {}).get("coding") or []}
    return bool(clinical & ACTIVE_CLINICAL) and not (verification & NOT_A_DIAGNOSIS)


def prefetch_templates() -> dict[str, str]:
    """The discovery prefetch object (CDS Hooks 'Prefetch Template')."""
    templates = {"patient": "Patient/{{context.patientId}}"}
    for key, (resource_type, params) in QUERIES.items():
        query = "&".join(f"{name}={value}" for name, value in params)
        templates[key] = f"{resource_type}?patient={{{{context.patientId}}}}&{query}"
    return templates


def from_server(ctx: RequestContext, patient_id: str, keys=None) -> PatientRecord:
    """Read the record through the interactions: read, then one search per kind (the guard applies to each)."""
    record = PatientRecord(patient_id)
    fill_from_server(ctx, record, keys if keys is not None else ["patient", *QUERIES])
    return record


def fill_from_server(ctx: RequestContext, record: PatientRecord, keys) -> None:
    for key in keys:
        if key == "patient":
            content = read.read(ctx, "Patient", record.patient_id).content
            assert content is not None  # read refuses a deleted Patient (410)
            record.patient = orjson.loads(content)
            continue
        resource_type, params = QUERIES[key]
        pairs = [("patient", record.patient_id), *params, ("_count", PAGE)]
        bundle = search.search_type(ctx, resource_type, pairs)
        record.resources[key] = [
            orjson.loads(e.resource_json) for e in bundle.entries if e.resource_json and e.search_mode == "match"
        ]


def from_prefetch(prefetch: dict, patient_id: str) -> tuple[PatientRecord, list[str]]:
    """The record the client prefetched, and the keys it did not satisfy (to fetch or to answer 412).

    Only resources of this patient are kept: a prefetch never lends one patient's data to another's check."""
    record, missing = PatientRecord(patient_id), []
    for key in ["patient", *QUERIES]:
        if key not in prefetch:
            missing.append(key)
            continue
        value = prefetch[key]
        if value is None:  # CDS Hooks: null = the query found nothing
            continue
        if not isinstance(value, dict):
            raise PrefetchError(f"prefetch.{key} must be a FHIR resource, a Bundle or null")
        if value.get("resourceType") == "OperationOutcome":
            missing.append(key)  # the client failed this query; read it ourselves
        elif key == "patient":
            if value.get("resourceType") != "Patient" or value.get("id") != patient_id:
                raise PrefetchError("prefetch.patient is not the context's patient")
            record.patient = value
        else:
            record.resources[key] = _bundle_resources(value, key, QUERIES[key][0], patient_id)
    return record, missing


def _bundle_resources(bundle: dict, key: str, resource_type: str, patient_id: str) -> list[dict]:
    if bundle.get("resourceType") != "Bundle":
        raise PrefetchError(f"prefetch.{key} must be a Bundle")
    found = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
            continue
        if _subject_id(resource) == patient_id:
            found.append(resource)
    return found


def _subject_id(resource: dict) -> str | None:
    reference = (resource.get("subject") or {}).get("reference") or ""
    return reference.rsplit("/", 1)[-1] if reference.startswith("Patient/") or "/Patient/" in reference else None


class PrefetchError(FhirError):
    status, code = 400, "invalid"


REVIEW_QUERIES = {
    "medicationRequests": ("MedicationRequest", ()),
    "medicationStatements": ("MedicationStatement", ()),
    "medicationDispenses": ("MedicationDispense", ()),
    "conditions": ("Condition", ()),
    "appointments": ("Appointment", ()),
}


def full_record(ctx: RequestContext, patient_id: str) -> PatientRecord:
    """Everything a medication review looks at, every status, read through the interactions."""
    record = PatientRecord(patient_id)
    content = read.read(ctx, "Patient", patient_id).content
    assert content is not None  # read refuses a deleted Patient (410)
    record.patient = orjson.loads(content)
    for key, (resource_type, params) in REVIEW_QUERIES.items():
        bundle = search.search_type(ctx, resource_type, [("patient", patient_id), *params, ("_count", PAGE)])
        record.resources[key] = [
            orjson.loads(e.resource_json) for e in bundle.entries if e.resource_json and e.search_mode == "match"
        ]
    return record
