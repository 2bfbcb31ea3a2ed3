"""The audit trail's own index rows for its AuditEvents equal the generic extraction's."""

from __future__ import annotations

import pytest

from server.audit.events import audit_event
from server.audit.rows import audit_event_rows
from server.auth.policy import AccessPolicy
from server.auth.scopes import parse_scopes
from server.interactions.audit import Access
from server.search.extract import index_rows

BASE = "http://127.0.0.1:8080/fhir"
SYSTEM = AccessPolicy(tuple(parse_scopes("system/*.cruds")), subject="svc", client_id="backend")
PRACTITIONER = AccessPolicy(
    tuple(parse_scopes("user/*.rs")), fhir_user="Practitioner/dr1", subject="u1", client_id="app"
)
PATIENT_USER = AccessPolicy(
    tuple(parse_scopes("patient/*.rs")), patient="p9", fhir_user="Patient/p9", subject="u2", client_id="portal"
)

ACCESSES = [
    Access(
        "read",
        None,
        "Patient",
        [("Patient", "p1")],
        {"p1"},
        200,
        policy=SYSTEM,
        address="10.0.0.1",
        request_id="r1",
        method="GET",
        path="/fhir/Patient/p1",
    ),
    Access(
        "search-type",
        None,
        "MedicationRequest",
        [],
        {"p1", "p2"},
        200,
        policy=PRACTITIONER,
        request_id="r2",
        method="GET",
        path="/fhir/MedicationRequest",
        query="status=active",
    ),
    Access("create", None, "Condition", [("Condition", "c1")], {"p9"}, 201, policy=PATIENT_USER),
    Access("delete", None, "Patient", [("Patient", "p3")], set(), 200, policy=SYSTEM),
    Access("search-type", None, "Patient", [], set(), 401, description="needs a Bearer access token", address="::1"),
    Access("login", None, None, [], set(), 400, address="127.0.0.1", request_id="r3"),
    Access("login", None, None, [], set(), 401, address="127.0.0.1", request_id="r4", client_id="claimed"),
    Access("operation", "$everything", "Patient", [("Patient", "p4")], {"p4"}, 200, policy=SYSTEM),
    Access("import", None, None, [("Patient", "p5"), ("MedicationRequest", "m5")], {"p5"}, 200, policy=SYSTEM),
    Access("reindex", "reindex", None, [], set(), 0, policy=SYSTEM, counts={"Patient": 3, "Group": 1}),
]


@pytest.mark.parametrize("access", ACCESSES, ids=lambda a: f"{a.interaction}-{a.outcome}")
def test_the_trails_rows_equal_the_generic_extraction(live_server, access):
    definition = live_server.app.extensions["fhir.services"].registry.get("AuditEvent")
    event = {**audit_event(access, BASE), "id": "e1"}
    event["meta"] = {**event.get("meta", {}), "versionId": "1", "lastUpdated": "2026-12-01T00:00:00.000000Z"}
    expected = index_rows(definition, event, BASE)
    assert {k: sorted(map(repr, v)) for k, v in audit_event_rows(event).items()} == {
        k: sorted(map(repr, v)) for k, v in expected.items()
    }


def test_an_absolute_reference_falls_back_to_the_generic_extraction():
    policy = AccessPolicy((), fhir_user="https://other.example/fhir/Practitioner/x", subject="s")
    assert audit_event_rows(audit_event(Access("read", outcome=200, policy=policy), BASE)) is None
