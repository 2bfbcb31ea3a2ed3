"""AuditEvents live in a table of their own (storage/audit_events.py), searched by keys instead of the shared
index tables: the SQL there must select what the in-memory matcher (search/matcher.py) selects, on generated
events stored through the real trail and searched over HTTP; what it cannot answer is a 400, never a wrong page."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.auth.policy import AccessPolicy
from server.interactions.audit import Access
from tests.factories import patient
from tests.search.types.parity import memory_selects, parity_settings, server_selects

AUDITOR = "system/AuditEvent.rs"
INTERACTION = "http://hl7.org/fhir/restful-interaction"
CLIENTS = ["app-a", "app-b"]
PATIENTS = ["p1", "p2", "p3"]

accesses = st.builds(
    lambda interaction, outcome, patients, client, user, subtype: (
        interaction,
        outcome,
        patients,
        client,
        user,
        subtype,
    ),
    st.sampled_from(["read", "search-type", "create", "delete", "operation"]),
    st.sampled_from([200, 201, 403, 404, 500]),
    st.lists(st.sampled_from(PATIENTS), max_size=2, unique=True),
    st.sampled_from(CLIENTS),
    st.one_of(st.none(), st.sampled_from(["Practitioner/d1", "Practitioner/d2"])),
    st.one_of(st.none(), st.sampled_from(["$everything", "$medication-review"])),
)

QUERIES = [
    ("outcome", "0"),
    ("outcome", "4,8"),
    ("outcome", "|4"),
    ("outcome:not", "0"),
    ("type", "rest"),
    ("type", "http://terminology.hl7.org/CodeSystem/audit-event-type|rest"),
    ("type", "http://terminology.hl7.org/CodeSystem/audit-event-type|"),
    ("type", "|rest"),
    ("subtype", "read"),
    ("subtype", f"{INTERACTION}|create"),
    ("subtype", f"{INTERACTION}|"),
    ("subtype:not", "operation"),
    ("patient", "p1"),
    ("patient", "Patient/p2"),
    ("patient:missing", "true"),
    ("patient:missing", "false"),
    ("entity", "Patient/p3"),
    ("entity:Patient", "p1"),
    ("agent", "Practitioner/d1"),
    ("agent", "d2"),
    ("agent:missing", "true"),
    ("agent:identifier", "app-a"),
    ("subtype:missing", "false"),
    ("_profile:missing", "true"),
    ("date", "ge2000-01-01"),
    ("date", "lt2000-01-01"),
    ("date:missing", "false"),
]


@pytest.fixture
def services(live_server):
    return live_server.app.extensions["fhir.services"]


def _store(services, shapes) -> list[str]:
    """Record one AuditEvent per generated access through the real trail; their request ids."""
    request_ids = []
    for interaction, outcome, patients, client, user, subtype in shapes:
        request_id = uuid.uuid4().hex
        access = Access(
            interaction=interaction,
            subtype=subtype if interaction == "operation" else None,
            resource_type="Patient",
            entities=[("Patient", p) for p in patients],
            patients=set(patients),
            outcome=outcome,
            address="127.0.0.1",
            request_id=request_id,
            method="GET",
            path="/fhir/Patient",
        )
        access.policy = AccessPolicy((), fhir_user=user, subject="u" if user else None, client_id=client)
        services.audit.append(access)
        request_ids.append(request_id)
    services.audit.flush()
    return request_ids


def _stored(auditor, request_ids: list[str]) -> list[dict]:
    events = []
    for request_id in request_ids:
        found = auditor.get("AuditEvent", params={"entity:identifier": request_id}).json().get("entry", [])
        assert len(found) == 1, request_id
        events.append(found[0]["resource"])
    return events


@parity_settings
@given(shapes=st.lists(accesses, min_size=1, max_size=6))
def test_the_audit_table_selects_what_the_matcher_selects(client_with, services, shapes):
    auditor = client_with(AUDITOR)
    events = _stored(auditor, _store(services, shapes))
    ids = [e["id"] for e in events]
    for name, value in QUERIES:
        in_sql = server_selects(auditor, "AuditEvent", ids, name, value)
        in_memory = memory_selects(services, events, name, value)
        assert in_sql is not None, f"{name}={value} refused"
        assert in_sql == in_memory, f"{name}={value}: SQL {in_sql} vs in memory {in_memory}\n{events}"


def test_sorting_by_date_both_ways_and_paging_cover_every_event_once(client_with, services):
    auditor = client_with(AUDITOR)
    request_ids = _store(services, [("read", 200, ["p1"], "app-a", None, None)] * 5)
    ids = {e["id"] for e in _stored(auditor, request_ids)}
    for order in ("date", "-date"):
        seen, url, params = [], "AuditEvent", {"_id": ",".join(ids), "_sort": order, "_count": 2}
        while url:
            page = auditor.get(url, params=params).json()
            seen += [e["resource"] for e in page.get("entry", [])]
            url, params = next((link["url"] for link in page["link"] if link["relation"] == "next"), None), None
        recorded = [e["recorded"] for e in seen]
        assert {e["id"] for e in seen} == ids and len(seen) == len(ids)
        assert recorded == sorted(recorded, reverse=order == "-date")


@pytest.mark.parametrize(
    "params",
    [
        {"type:text": "rest"},
        {"entity:Patient.name": "x"},
        {"_sort": "outcome"},
        {"_has:AuditEvent:patient:outcome": "0"},
    ],
)
def test_what_the_audit_table_cannot_answer_is_a_400_naming_it(client_with, params):
    auditor = client_with(f"{AUDITOR} system/Patient.rs")
    resource_type = "Patient" if any(k.startswith("_has") for k in params) else "AuditEvent"
    response = auditor.get(resource_type, params=params, headers={"Prefer": "handling=strict"})
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_include_and_revinclude_follow_an_events_references(client_with, services, unique):
    reader = client_with(f"{AUDITOR} system/Patient.crs")
    stored = reader.create(patient(unique))
    (request_id,) = _store(services, [("read", 200, [stored["id"]], "app-a", None, None)])
    (event,) = _stored(reader, [request_id])
    included = reader.get("AuditEvent", params={"_id": event["id"], "_include": "AuditEvent:patient"}).json()["entry"]
    assert {(e["resource"]["resourceType"], e["search"]["mode"]) for e in included} == {
        ("AuditEvent", "match"),
        ("Patient", "include"),
    }
    revincluded = reader.get(
        "Patient", params={"_id": stored["id"], "_revinclude": "AuditEvent:entity:Patient"}
    ).json()["entry"]
    assert event["id"] in {e["resource"]["id"] for e in revincluded if e["search"]["mode"] == "include"}
    hidden = client_with("system/Patient.rs").get(
        "Patient", params={"_id": stored["id"], "_revinclude": "AuditEvent:patient"}
    )
    assert hidden.status_code == 200 and all(e["resource"]["resourceType"] == "Patient" for e in hidden.json()["entry"])
