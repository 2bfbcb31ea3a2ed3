"""The access table: every route of the app, each interaction x token kind -> allowed / filtered / denied /
hidden. tests/api/test_guard.py runs every cell over HTTP and fails for any route of app.url_map that is
neither here (ROUTES) nor declared as carrying no FHIR data (NOT_DATA).

To add a route: append a Case to ROUTES (its Flask rule with `<any(...):name>` written `<name>`, a request
built from the World, and one outcome per token kind, usually a profile below). Each cell gets a fresh World:
`mine` and `other`, two Patients, with `my_mr` (status active) and `other_mr` (status stopped), one
MedicationRequest each; the tokens below are granted on `mine` where they have a patient context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.factories import medication_request

ALLOWED = "allowed"  # 2xx; for a search-like response, other's data is in it
FILTERED = "filtered"  # 2xx, but other's data is not in it
DENIED = "denied"  # 403
HIDDEN = "hidden"  # 404: out of reach, and its existence not told
PUBLIC = "public"  # 2xx with any token or none
REJECTED = "rejected"  # 400: refused for its content before any data is read

GRANULAR = "system/MedicationRequest.cruds?status=active system/Patient.rs"


@dataclass(frozen=True)
class World:
    mine: str
    other: str
    my_mr: str
    other_mr: str
    since: str  # a FHIR instant just before the world was written
    unique: str


# token kind -> (scope, extra claims) for the world; None: no Authorization header at all
TOKENS: dict[str, Callable[[World], tuple[str, dict] | None]] = {
    "system": lambda w: ("system/*.cruds", {}),
    "user-practitioner": lambda w: ("user/*.cruds", {"fhir_user": f"Practitioner/pr-{w.unique}"}),
    "user-patient": lambda w: ("user/*.cruds", {"fhir_user": f"Patient/{w.mine}"}),
    "patient-v1": lambda w: ("launch/patient patient/*.read patient/*.write", {"patient": w.mine}),
    "patient-v2": lambda w: ("launch/patient patient/*.cruds", {"patient": w.mine}),
    "granular-v2": lambda w: (GRANULAR, {}),
    "no-scope": lambda w: ("openid fhirUser", {}),
    "no-token": lambda w: None,
}
KINDS = tuple(TOKENS)


def outcomes(system, practitioner, user_patient, patient_v1, patient_v2, granular, no_scope) -> dict[str, str]:
    """One outcome per token kind, in TOKENS' order; a request without a token is always 401 (unless PUBLIC)."""
    kinds = (system, practitioner, user_patient, patient_v1, patient_v2, granular, no_scope)
    return dict(zip(KINDS[:-1], kinds, strict=False))


# Profiles: the usual rows. The target is always other's resource (a stopped MedicationRequest).
READ_OTHER = outcomes(ALLOWED, ALLOWED, HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED)
SEARCH_OTHER = outcomes(ALLOWED, ALLOWED, FILTERED, FILTERED, FILTERED, FILTERED, DENIED)
WRITE_OTHER = outcomes(ALLOWED, ALLOWED, DENIED, DENIED, DENIED, DENIED, DENIED)
HISTORY_OTHER = outcomes(ALLOWED, ALLOWED, FILTERED, FILTERED, FILTERED, DENIED, DENIED)
AUTHENTICATED = outcomes(ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED)
HIDDEN_WRITE_OTHER = outcomes(ALLOWED, ALLOWED, HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED)


def _ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)}


def sees_other_mr(body: dict, world: World) -> bool:
    return world.other_mr in _ids(body)


def _entry_status(body: dict) -> int:
    """A batch answers 200; the entry's own status is the outcome."""
    return int(body["entry"][0]["response"]["status"].split()[0])


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    rule: str  # as app.url_map has it, `<any(...):x>` written `<x>`
    path: Callable[[World], str]  # relative to the FHIR base (or to the root, if it starts with '/')
    expect: dict[str, str]
    json: Callable[[World], object] | None = None
    params: Callable[[World], dict] | None = None
    data: Callable[[World], dict] | None = None  # form-encoded body
    headers: Callable[[World], dict] | None = None
    sees_other: Callable[[dict, World], bool] | None = None  # for search-like responses
    status: Callable[[dict], int] | None = None  # the status that counts, when not the HTTP one
    denied: int = 403  # the status of DENIED and HIDDEN for this route (CDS Hooks answers 412 for both)
    hidden: int = 404


def _other_active(w: World) -> dict:
    return {**medication_request(w.other), "id": w.other_mr}


def _batch(kind: str, entry: Callable[[World], dict]) -> Callable[[World], dict]:
    return lambda w: {"resourceType": "Bundle", "type": kind, "entry": [entry(w)]}


_JSON_PATCH = [{"op": "replace", "path": "/status", "value": "active"}]
_PATCH_HEADERS = {"Content-Type": "application/json-patch+json"}

ROUTES: list[Case] = [
    Case("capabilities", "GET", "/fhir/metadata", lambda w: "metadata", {k: PUBLIC for k in KINDS[:-1]}),
    Case(
        "SMART discovery",
        "GET",
        "/fhir/.well-known/smart-configuration",
        lambda w: ".well-known/smart-configuration",
        {k: PUBLIC for k in KINDS[:-1]},
    ),
    Case(
        "OpenID discovery",
        "GET",
        "/fhir/.well-known/openid-configuration",
        lambda w: ".well-known/openid-configuration",
        {k: PUBLIC for k in KINDS[:-1]},
    ),
    Case("OpenAPI document", "GET", "/fhir/openapi.json", lambda w: "openapi.json", {k: PUBLIC for k in KINDS[:-1]}),
    Case(
        "search-system",
        "GET",
        "/fhir",
        lambda w: "",
        SEARCH_OTHER,
        params=lambda w: {"_type": "MedicationRequest", "_id": f"{w.my_mr},{w.other_mr}"},
        sees_other=sees_other_mr,
    ),
    Case(
        "search-system (trailing slash)",
        "GET",
        "/fhir",
        lambda w: "/fhir/",
        SEARCH_OTHER,
        params=lambda w: {"_type": "MedicationRequest", "_id": f"{w.my_mr},{w.other_mr}"},
        sees_other=sees_other_mr,
    ),
    Case(
        "batch",
        "POST",
        "/fhir",
        lambda w: "",
        READ_OTHER,
        json=_batch("batch", lambda w: {"request": {"method": "GET", "url": f"MedicationRequest/{w.other_mr}"}}),
        status=_entry_status,
    ),
    Case(
        "transaction",
        "POST",
        "/fhir",
        lambda w: "",
        WRITE_OTHER,
        json=_batch(
            "transaction",
            lambda w: {
                "resource": _other_active(w),
                "request": {"method": "PUT", "url": f"MedicationRequest/{w.other_mr}"},
            },
        ),
    ),
    Case(
        "batch (trailing slash)",
        "POST",
        "/fhir",
        lambda w: "/fhir/",
        READ_OTHER,
        json=_batch("batch", lambda w: {"request": {"method": "GET", "url": f"MedicationRequest/{w.other_mr}"}}),
        status=_entry_status,
    ),
    Case(
        "history-system",
        "GET",
        "/fhir/_history",
        lambda w: "_history",
        outcomes(ALLOWED, ALLOWED, FILTERED, FILTERED, FILTERED, FILTERED, DENIED),
        params=lambda w: {"_since": w.since, "_count": 100},
        sees_other=sees_other_mr,
    ),
    Case(
        "search-type",
        "GET",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        SEARCH_OTHER,
        params=lambda w: {"_id": f"{w.my_mr},{w.other_mr}"},
        sees_other=sees_other_mr,
    ),
    Case(
        "search-type (POST)",
        "POST",
        "/fhir/<resource_type>/_search",
        lambda w: "MedicationRequest/_search",
        SEARCH_OTHER,
        data=lambda w: {"_id": f"{w.my_mr},{w.other_mr}"},
        sees_other=sees_other_mr,
    ),
    Case(
        "search-type (compartment)",
        "GET",
        "/fhir/<compartment_type>/<compartment_id>/<resource_type>",
        lambda w: f"Patient/{w.other}/MedicationRequest",
        SEARCH_OTHER,
        sees_other=sees_other_mr,
    ),
    Case(
        "create",
        "POST",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        outcomes(ALLOWED, ALLOWED, DENIED, DENIED, DENIED, ALLOWED, DENIED),
        json=lambda w: medication_request(w.other),
    ),
    Case(
        "create (outside a granular scope)",
        "POST",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        outcomes(ALLOWED, ALLOWED, DENIED, DENIED, DENIED, DENIED, DENIED),
        json=lambda w: medication_request(w.other, status="stopped"),
    ),
    Case(
        "create (conditional)",
        "POST",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        outcomes(ALLOWED, ALLOWED, DENIED, DENIED, DENIED, ALLOWED, DENIED),
        json=lambda w: medication_request(w.other, identifier=[{"system": "urn:test:guard", "value": w.unique}]),
        headers=lambda w: {"If-None-Exist": f"identifier=urn:test:guard|{w.unique}"},
    ),
    Case(
        "history-type",
        "GET",
        "/fhir/<resource_type>/_history",
        lambda w: "MedicationRequest/_history",
        HISTORY_OTHER,
        params=lambda w: {"_since": w.since, "_count": 100},
        sees_other=sees_other_mr,
    ),
    Case("read", "GET", "/fhir/<resource_type>/<id>", lambda w: f"MedicationRequest/{w.other_mr}", READ_OTHER),
    Case(
        "update",
        "PUT",
        "/fhir/<resource_type>/<id>",
        lambda w: f"MedicationRequest/{w.other_mr}",
        WRITE_OTHER,
        json=_other_active,
    ),
    Case(
        "delete",
        "DELETE",
        "/fhir/<resource_type>/<id>",
        lambda w: f"MedicationRequest/{w.other_mr}",
        HIDDEN_WRITE_OTHER,
    ),
    Case(
        "patch",
        "PATCH",
        "/fhir/<resource_type>/<id>",
        lambda w: f"MedicationRequest/{w.other_mr}",
        HIDDEN_WRITE_OTHER,
        json=lambda w: _JSON_PATCH,
        headers=lambda w: _PATCH_HEADERS,
    ),
    Case(
        "history-instance",
        "GET",
        "/fhir/<resource_type>/<id>/_history",
        lambda w: f"MedicationRequest/{w.other_mr}/_history",
        READ_OTHER,
    ),
    Case(
        "vread",
        "GET",
        "/fhir/<resource_type>/<id>/_history/<version_id>",
        lambda w: f"MedicationRequest/{w.other_mr}/_history/1",
        READ_OTHER,
    ),
    Case(
        "update (conditional)",
        "PUT",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        WRITE_OTHER,
        params=lambda w: {"_id": w.other_mr},
        json=_other_active,
    ),
    Case(
        "delete (conditional)",
        "DELETE",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        outcomes(ALLOWED, ALLOWED, FILTERED, FILTERED, FILTERED, FILTERED, DENIED),
        params=lambda w: {"_id": w.other_mr},
        sees_other=lambda body, w: "Deleted" in body["issue"][0]["diagnostics"],
    ),
    Case(
        "patch (conditional)",
        "PATCH",
        "/fhir/<resource_type>",
        lambda w: "MedicationRequest",
        outcomes(ALLOWED, ALLOWED, HIDDEN, HIDDEN, HIDDEN, HIDDEN, DENIED),
        params=lambda w: {"_id": w.other_mr},
        json=lambda w: _JSON_PATCH,
        headers=lambda w: _PATCH_HEADERS,
    ),
    Case(
        "$everything",
        "GET",
        "/fhir/Patient/<id>/$everything",
        lambda w: f"Patient/{w.other}/$everything",
        outcomes(ALLOWED, ALLOWED, HIDDEN, HIDDEN, HIDDEN, FILTERED, DENIED),
        sees_other=sees_other_mr,
    ),
    Case(
        "$validate (type, create)",
        "POST",
        "/fhir/<resource_type>/$validate",
        lambda w: "MedicationRequest/$validate",
        outcomes(ALLOWED, ALLOWED, DENIED, DENIED, DENIED, ALLOWED, DENIED),
        json=lambda w: medication_request(w.other),
        params=lambda w: {"mode": "create"},
    ),
    Case(
        "$validate (type, no mode)",
        "POST",
        "/fhir/<resource_type>/$validate",
        lambda w: "MedicationRequest/$validate",
        outcomes(ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, DENIED),
        json=lambda w: medication_request(w.other),
    ),
    Case(
        "$validate (instance, update)",
        "POST",
        "/fhir/<resource_type>/<id>/$validate",
        lambda w: f"MedicationRequest/{w.other_mr}/$validate",
        WRITE_OTHER,
        json=_other_active,
        params=lambda w: {"mode": "update"},
    ),
    Case(
        "$validate (instance, delete)",
        "POST",
        "/fhir/<resource_type>/<id>/$validate",
        lambda w: f"MedicationRequest/{w.other_mr}/$validate",
        HIDDEN_WRITE_OTHER,
        params=lambda w: {"mode": "delete"},
    ),
]


def _order_select(w: World) -> dict:
    draft = {**medication_request(w.other, status="draft"), "id": "draft-1"}
    return {
        "hook": "order-select",
        "hookInstance": f"guard-{w.unique}",
        "context": {
            "userId": "Practitioner/example",
            "patientId": w.other,
            "selections": ["MedicationRequest/draft-1"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]},
        },
    }


ROUTES += [
    Case("CDS Hooks discovery", "GET", "/cds-services", lambda w: "/cds-services", AUTHENTICATED),
    Case(
        "CDS Hooks service (reads other's record with the caller's token)",
        "POST",
        "/cds-services/<service_id>",
        lambda w: "/cds-services/medication-safety-order-select",
        READ_OTHER,
        json=_order_select,
        denied=412,
        hidden=412,
    ),
    Case(
        "CDS Hooks feedback (a card this server did not issue)",
        "POST",
        "/cds-services/<service_id>/feedback",
        lambda w: "/cds-services/medication-safety-order-select/feedback",
        outcomes(REJECTED, REJECTED, REJECTED, REJECTED, REJECTED, REJECTED, REJECTED),
        json=lambda w: {
            "feedback": [
                {
                    "card": "00000000-0000-4000-8000-000000000000",
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-12-01T10:00:00Z",
                }
            ]
        },
    ),
]

REVIEW_OTHER = outcomes(ALLOWED, ALLOWED, HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED)
ROUTES += [
    Case(
        "$medication-review",
        "GET",
        "/fhir/Patient/<id>/$medication-review",
        lambda w: f"Patient/{w.other}/$medication-review",
        REVIEW_OTHER,
    ),
    Case(
        "$medication-review (POST)",
        "POST",
        "/fhir/Patient/<id>/$medication-review",
        lambda w: f"Patient/{w.other}/$medication-review",
        REVIEW_OTHER,
        json=lambda w: {
            "resourceType": "Parameters",
            "parameter": [{"name": "period-start", "valueDate": "2026-01-01"}],
        },
    ),
    # answers only the patients the token reaches (tests/api/test_population_operations.py checks that)
    Case(
        "$follow-up-gaps",
        "GET",
        "/fhir/Patient/$follow-up-gaps",
        lambda w: "Patient/$follow-up-gaps",
        outcomes(ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, DENIED, DENIED),
        params=lambda w: {"started-within": 3650},
    ),
    Case(
        "Group $pdc (an unknown group)",
        "GET",
        "/fhir/Group/<id>/$pdc",
        lambda w: f"Group/g-{w.unique}/$pdc",
        outcomes(HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED),
        params=lambda w: {"class": "ssri"},
    ),
]

# The shipped conformance resources (profiles/) hold no patient data: any scope covering their type reads them.
CONFORMANCE = outcomes(ALLOWED, ALLOWED, ALLOWED, ALLOWED, ALLOWED, DENIED, DENIED)
_CLINICAL = "http://hl7.org/fhir/ValueSet/condition-clinical"
_CLINICAL_CS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_PARAMETERS = {"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": _CLINICAL}]}
ROUTES += [
    Case(
        "conformance search",
        "GET",
        "/fhir/<resource_type>",
        lambda w: "StructureDefinition",
        CONFORMANCE,
        params=lambda w: {"type": "Patient"},
    ),
    Case(
        "conformance read",
        "GET",
        "/fhir/<resource_type>/<id>",
        lambda w: "StructureDefinition/us-core-patient",
        CONFORMANCE,
    ),
    Case(
        "OperationDefinition search (by url)",
        "GET",
        "/fhir/<resource_type>",
        lambda w: "OperationDefinition",
        CONFORMANCE,
        params=lambda w: {"url": "https://github.com/fhir-medication-server/OperationDefinition/Group-pdc"},
    ),
    Case(
        "OperationDefinition read",
        "GET",
        "/fhir/<resource_type>/<id>",
        lambda w: "OperationDefinition/Patient-medication-review",
        CONFORMANCE,
    ),
    Case(
        "SearchParameter search (by base)",
        "GET",
        "/fhir/<resource_type>",
        lambda w: "SearchParameter",
        CONFORMANCE,
        params=lambda w: {"base": "MedicationDispense"},
    ),
    Case(
        "SearchParameter read",
        "GET",
        "/fhir/<resource_type>/<id>",
        lambda w: "SearchParameter/MedicationDispense-days-supply",
        CONFORMANCE,
    ),
    Case(
        "ValueSet/$expand",
        "GET",
        "/fhir/ValueSet/$expand",
        lambda w: "ValueSet/$expand",
        CONFORMANCE,
        params=lambda w: {"url": _CLINICAL},
    ),
    Case(
        "ValueSet/$expand (POST)",
        "POST",
        "/fhir/ValueSet/$expand",
        lambda w: "ValueSet/$expand",
        CONFORMANCE,
        json=lambda w: _PARAMETERS,
    ),
    Case(
        "ValueSet/{id}/$expand",
        "GET",
        "/fhir/ValueSet/<id>/$expand",
        lambda w: "ValueSet/condition-clinical/$expand",
        CONFORMANCE,
    ),
    Case(
        "ValueSet/{id}/$expand (POST)",
        "POST",
        "/fhir/ValueSet/<id>/$expand",
        lambda w: "ValueSet/condition-clinical/$expand",
        CONFORMANCE,
        json=lambda w: {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 2}]},
    ),
    Case(
        "ValueSet/$validate-code",
        "GET",
        "/fhir/ValueSet/$validate-code",
        lambda w: "ValueSet/$validate-code",
        CONFORMANCE,
        params=lambda w: {"url": _CLINICAL, "system": _CLINICAL_CS, "code": "active"},
    ),
    Case(
        "ValueSet/$validate-code (POST)",
        "POST",
        "/fhir/ValueSet/$validate-code",
        lambda w: "ValueSet/$validate-code",
        CONFORMANCE,
        json=lambda w: {
            **_PARAMETERS,
            "parameter": _PARAMETERS["parameter"] + [{"name": "code", "valueCode": "active"}],
        },
    ),
    Case(
        "ValueSet/{id}/$validate-code",
        "GET",
        "/fhir/ValueSet/<id>/$validate-code",
        lambda w: "ValueSet/condition-clinical/$validate-code",
        CONFORMANCE,
        params=lambda w: {"code": "active"},
    ),
    Case(
        "ValueSet/{id}/$validate-code (POST)",
        "POST",
        "/fhir/ValueSet/<id>/$validate-code",
        lambda w: "ValueSet/condition-clinical/$validate-code",
        CONFORMANCE,
        json=lambda w: {"resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": "active"}]},
    ),
    Case(
        "CodeSystem/$lookup",
        "GET",
        "/fhir/CodeSystem/$lookup",
        lambda w: "CodeSystem/$lookup",
        CONFORMANCE,
        params=lambda w: {"system": _CLINICAL_CS, "code": "active"},
    ),
    Case(
        "CodeSystem/$lookup (POST)",
        "POST",
        "/fhir/CodeSystem/$lookup",
        lambda w: "CodeSystem/$lookup",
        CONFORMANCE,
        json=lambda w: {
            "resourceType": "Parameters",
            "parameter": [{"name": "system", "valueUri": _CLINICAL_CS}, {"name": "code", "valueCode": "active"}],
        },
    ),
]

# Routes of the app that serve no FHIR data, each with why. Anything under /fhir or /cds-services may not be here.
NOT_DATA: dict[tuple[str, str], str] = {
    ("/healthz", "GET"): "liveness",
    ("/readyz", "GET"): "readiness: checks the database, returns no data",
    ("/openapi.json", "GET"): "the OpenAPI document",
    ("/docs", "GET"): "Swagger UI",
    ("/metrics", "GET"): "operators' Prometheus metrics: counts by route template and type, no data (no PHI)",
    ("/auth/jwks.json", "GET"): "public keys",
    ("/static/<path:filename>", "GET"): "Flask's static files (none are data)",
    ("/auth/authorize", "GET"): "authorization server",
    ("/auth/authorize", "POST"): "authorization server",
    ("/auth/login", "POST"): "authorization server",
    ("/auth/patient", "POST"): "authorization server: the patient picker of the signed-in user",
    ("/auth/consent", "POST"): "authorization server",
    ("/auth/token", "POST"): "authorization server",
    ("/auth/introspect", "POST"): "authorization server",
    ("/auth/revoke", "POST"): "authorization server",
    ("/auth/launch", "POST"): "EHR launch: a system/ token creates a launch id (guard.require_system_scope)",
    ("/auth/smart-style.json", "GET"): "SMART style hints",
    ("/auth/static/<path:filename>", "GET"): "the authorization pages' stylesheet",
    ("/auth/patient-search", "POST"): "the patient picker of the signed-in user, searched through the guard as that"
    " user (interactions/launch_context.py); no Bearer token",
}

# Bulk Data $export (server/bulk/): a kick-off answers 202 before any data is read; what the export then
# holds is narrowed by the same guard as a search (tests/bulk/ checks the files per token kind).
_ASYNC = {"Prefer": "respond-async"}
EXPORT_KICKOFF = outcomes(ALLOWED, ALLOWED, ALLOWED, DENIED, DENIED, ALLOWED, DENIED)


def _export_parameters(w: World) -> dict:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "MedicationRequest"},
            {"name": "_since", "valueInstant": w.since},
        ],
    }


def _export_query(w: World) -> dict:
    return {"_type": "MedicationRequest", "_since": w.since}


ROUTES += [
    Case(
        "$export (system)",
        "GET",
        "/fhir/$export",
        lambda w: "$export",
        EXPORT_KICKOFF,
        params=_export_query,
        headers=lambda w: _ASYNC,
    ),
    Case(
        "$export (system, POST)",
        "POST",
        "/fhir/$export",
        lambda w: "$export",
        EXPORT_KICKOFF,
        json=_export_parameters,
        headers=lambda w: _ASYNC,
    ),
    Case(
        "$export (Patient)",
        "GET",
        "/fhir/Patient/$export",
        lambda w: "Patient/$export",
        EXPORT_KICKOFF,
        params=_export_query,
        headers=lambda w: _ASYNC,
    ),
    Case(
        "$export (Patient, POST)",
        "POST",
        "/fhir/Patient/$export",
        lambda w: "Patient/$export",
        EXPORT_KICKOFF,
        json=_export_parameters,
        headers=lambda w: _ASYNC,
    ),
    # an unknown Group: 404 to those who may read Groups, 403 to those who may not export at all
    Case(
        "$export (Group)",
        "GET",
        "/fhir/Group/<group_id>/$export",
        lambda w: f"Group/g-{w.unique}/$export",
        outcomes(HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED, DENIED, DENIED),
        params=_export_query,
        headers=lambda w: _ASYNC,
    ),
    Case(
        "$export (Group, POST)",
        "POST",
        "/fhir/Group/<group_id>/$export",
        lambda w: f"Group/g-{w.unique}/$export",
        outcomes(HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED, DENIED, DENIED),
        json=_export_parameters,
        headers=lambda w: _ASYNC,
    ),
    # another client's or an unknown job: never told apart from one that does not exist
    Case(
        "export status", "GET", "/fhir/bulkstatus/<job_id>", lambda w: f"bulkstatus/{w.unique}", outcomes(*[HIDDEN] * 7)
    ),
    Case(
        "export cancel",
        "DELETE",
        "/fhir/bulkstatus/<job_id>",
        lambda w: f"bulkstatus/{w.unique}",
        outcomes(*[HIDDEN] * 7),
    ),
    Case(
        "export file",
        "GET",
        "/fhir/bulkfiles/<job_id>/<name>",
        lambda w: f"bulkfiles/{w.unique}/Patient-1.ndjson",
        outcomes(*[HIDDEN] * 7),
    ),
]
