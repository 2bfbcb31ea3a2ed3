"""The AuditEvent trail (IHE BALP shapes): every FHIR access is recorded with who, what, the
patients concerned, when, the outcome (denials included) and from where; writes in their own
transaction, reads buffered; AuditEvents are searchable only with a scope naming AuditEvent."""

from __future__ import annotations

import base64
import time
import uuid

import orjson
import pytest
import requests

from tests.factories import MRN, group, medication_dispense, medication_request, patient

AUDITOR = "system/AuditEvent.rs"


@pytest.fixture
def auditor(client_with):
    return client_with(AUDITOR)


@pytest.fixture
def flush(live_server):
    return live_server.app.extensions["fhir.services"].audit.flush


def _events(auditor, **params) -> list[dict]:
    response = auditor.get("AuditEvent", params={"_count": 100, **params})
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", []) if e["search"]["mode"] == "match"]


def _request_id(event: dict) -> str | None:
    return next(
        (
            e["what"]["identifier"]["value"]
            for e in event.get("entity", [])
            if e.get("type", {}).get("code") == "XrequestId"
        ),
        None,
    )


def _by_request(auditor, flush, request_id: str) -> list[dict]:
    for _ in range(20):
        flush()
        found = [
            e
            for e in _events(auditor, _sort="-date", date=f"ge{time.strftime('%Y-%m-%d')}")
            if _request_id(e) == request_id
        ]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_a_read_is_recorded_with_who_what_patient_outcome_and_request_id(client, auditor, flush, unique, live_server):
    subject = client.create(patient(unique))["id"]
    order = client.create(medication_request(subject))["id"]
    response = client.get(f"MedicationRequest/{order}", headers={"X-Request-ID": f"read-{unique}"})
    assert response.status_code == 200
    [event] = _by_request(auditor, flush, f"read-{unique}")
    assert event["type"]["code"] == "rest"
    assert event["subtype"][0] == {"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}
    assert event["action"] == "R" and event["outcome"] == "0"
    assert event["meta"]["profile"] == [
        "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"
    ]
    whats = [e["what"].get("reference") for e in event["entity"]]
    assert f"MedicationRequest/{order}" in whats and f"Patient/{subject}" in whats
    client_agent = event["agent"][0]
    assert client_agent["who"]["identifier"]["value"] == "tests"
    assert client_agent["network"]["address"] == "127.0.0.1"
    user = event["agent"][2]
    assert user["requestor"] is True and user["altId"] == "test"
    # and it is found by patient, entity, subtype and outcome
    for params in (
        {"patient": subject},
        {"entity": f"MedicationRequest/{order}"},
        {"subtype": "read", "patient": subject},
        {"outcome": "0", "patient": subject},
    ):
        assert event["id"] in [e["id"] for e in _events(auditor, **params)], params


def test_a_search_lists_the_patients_whose_data_it_returned(client, auditor, flush, unique):
    first, second = (client.create(patient(f"{unique}-{n}"))["id"] for n in (1, 2))
    for subject in (first, second):
        client.create(medication_request(subject, identifier=[{"system": MRN, "value": unique}]))
    response = client.get(
        "MedicationRequest", params={"identifier": f"{MRN}|{unique}"}, headers={"X-Request-ID": f"search-{unique}"}
    )
    assert response.json()["total"] == 2
    [event] = _by_request(auditor, flush, f"search-{unique}")
    assert event["subtype"][0]["code"] == "search-type" and event["action"] == "E"
    patients = sorted(e["what"]["reference"] for e in event["entity"] if e.get("role", {}).get("code") == "1")
    assert patients == sorted([f"Patient/{first}", f"Patient/{second}"])
    query = next(e for e in event["entity"] if e.get("role", {}).get("code") == "24")
    assert unique in base64.b64decode(query["query"]).decode()


def test_a_create_is_audited_in_its_own_transaction(client, auditor, unique):
    created = client.post("Patient", json=patient(unique), headers={"X-Request-ID": f"create-{unique}"})
    assert created.status_code == 201
    # no flush: the AuditEvent was stored with the Patient
    events = [
        e for e in _events(auditor, entity=f"Patient/{created.json()['id']}") if _request_id(e) == f"create-{unique}"
    ]
    assert len(events) == 1
    assert events[0]["subtype"][0]["code"] == "create" and events[0]["action"] == "C"
    assert events[0]["agent"][2]["type"]["coding"][0]["code"] == "AUT"


def test_each_transaction_entry_is_audited(client, auditor, unique):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(f"{unique}-{n}")} for n in range(3)
        ],
    }
    response = client.post(client.base_url, json=bundle, headers={"X-Request-ID": f"tx-{unique}"})
    assert response.status_code == 200, response.text
    ids = [e["response"]["location"].split("/")[1] for e in response.json()["entry"]]
    for id in ids:
        assert [_request_id(e) for e in _events(auditor, entity=f"Patient/{id}")] == [f"tx-{unique}"]


def test_a_refused_write_leaves_a_failure_event_and_no_resource(client, auditor, flush, unique):
    response = client.post(
        "Patient", json={**patient(unique), "gender": "nope"}, headers={"X-Request-ID": f"bad-{unique}"}
    )
    assert response.status_code in (400, 422)
    [event] = _by_request(auditor, flush, f"bad-{unique}")
    assert event["outcome"] == "4" and event["subtype"][0]["code"] == "create"
    assert event["outcomeDesc"]


def test_denials_and_authentication_failures_are_recorded(client_with, auditor, flush, unique, live_server):
    anonymous = client_with(None)
    assert anonymous.get("Patient", headers={"X-Request-ID": f"anon-{unique}"}).status_code == 401
    [event] = _by_request(auditor, flush, f"anon-{unique}")
    assert event["outcome"] == "4" and event["agent"][0]["who"] == {"display": "unauthenticated client"}
    reader = client_with("patient/*.rs", patient="someone-else")
    assert reader.get("AuditEvent", headers={"X-Request-ID": f"deny-{unique}"}).status_code == 403
    [event] = _by_request(auditor, flush, f"deny-{unique}")
    assert event["outcome"] == "4" and event["subtype"][0]["code"] == "search-type"
    import requests

    bad_token = requests.post(
        f"{live_server.root_url}/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"X-Request-ID": f"login-{unique}"},
    )
    assert bad_token.status_code in (400, 401)
    [event] = _by_request(auditor, flush, f"login-{unique}")
    assert event["type"]["code"] == "110114" and event["outcome"] == "4"


def test_audit_events_are_searchable_only_with_a_scope_naming_them(client_with, auditor, unique):
    assert auditor.get("AuditEvent", params={"_sort": "-date", "_count": 2}).status_code == 200
    for scope in ("system/*.cruds", "patient/*.rs", "user/*.rs"):
        assert client_with(scope, patient="p1", fhir_user="Practitioner/x").get("AuditEvent").status_code == 403, scope
    assert client_with("user/AuditEvent.rs", fhir_user="Practitioner/x").get("AuditEvent").status_code == 200


def test_audit_events_cannot_be_created_updated_or_deleted(client_with):
    writer = client_with("system/AuditEvent.cruds system/*.cruds")
    event = {
        "resourceType": "AuditEvent",
        "type": {"code": "rest"},
        "recorded": "2026-01-01T00:00:00Z",
        "agent": [{"requestor": True}],
        "source": {"observer": {"display": "x"}},
    }
    assert writer.post("AuditEvent", json=event).status_code == 405
    assert writer.put("AuditEvent/x", json={**event, "id": "x"}).status_code == 405
    assert writer.delete("AuditEvent/x").status_code == 405


def test_an_audit_event_is_read_but_has_no_history(client, auditor, unique):
    created = client.post("Patient", json=patient(unique), headers={"X-Request-ID": f"hist-{unique}"})
    [event] = [
        e for e in _events(auditor, entity=f"Patient/{created.json()['id']}") if _request_id(e) == f"hist-{unique}"
    ]
    assert auditor.get(f"AuditEvent/{event['id']}").json()["id"] == event["id"]
    assert auditor.get(f"AuditEvent/{event['id']}/_history/1").status_code == 405


def test_results_sort_newest_first(auditor, client, flush):
    client.get("metadata")
    client.get("Patient", params={"_count": 1})
    flush()
    dates = [e["recorded"] for e in _events(auditor, _sort="-date", _count=20)]
    assert len(dates) >= 2 and dates == sorted(dates, reverse=True)


def test_buffered_events_are_stored_at_shutdown(live_server, auditor, unique):
    from server.audit.trail import AuditTrail
    from server.interactions.audit import Access

    trail = AuditTrail()
    trail.bind(live_server.app.extensions["fhir.services"])
    trail.append(Access("read", entities=[("Patient", unique)], outcome=200, request_id=f"shutdown-{unique}"))
    trail.close()
    assert [_request_id(e) for e in _events(auditor, entity=f"Patient/{unique}")] == [f"shutdown-{unique}"]


def test_fhir_audit_off_builds_no_trail():
    from server import build_services
    from server.config import Settings

    assert Settings.from_env(env={}).audit is True
    settings = Settings.from_env(env={"FHIR_AUDIT": "off"})
    services = build_services(settings, database=None)
    assert settings.audit is False and services.audit is None and services.write_listeners == []


def test_audit_events_never_keep_a_resource_from_being_deleted(client, auditor, flush, unique):
    subject = client.create(patient(unique))["id"]
    client.get(f"Patient/{subject}", headers={"X-Request-ID": f"keep-{unique}"})
    assert _by_request(auditor, flush, f"keep-{unique}")  # an AuditEvent refers to the Patient
    assert client.delete(f"Patient/{subject}").status_code in (200, 204)
    assert _events(auditor, entity=f"Patient/{subject}")  # and it is kept


def _all_by_request(auditor, flush, request_id: str, count: int) -> list[dict]:
    """The events of one request, once `count` of them are stored (writes' are, buffered ones soon after)."""
    found: list[dict] = []
    for _ in range(30):
        flush()
        found = [e for e in _events(auditor, _sort="-date", _count=200) if _request_id(e) == request_id]
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


def _outcomes(events: list[dict]) -> list[tuple[str, str]]:
    return sorted((e["subtype"][0]["code"], e["outcome"]) for e in events)


def test_every_batch_entry_is_audited_with_its_own_outcome(client_with, client, auditor, flush, unique):
    existing = client.create(patient(f"{unique}-old"))["id"]
    writer = client_with("system/Patient.cruds")
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(unique)},
            {"request": {"method": "POST", "url": "Patient"}, "resource": {**patient(unique), "gender": "nope"}},
            {"request": {"method": "POST", "url": "MedicationRequest"}, "resource": medication_request(existing)},
            {"request": {"method": "GET", "url": f"Patient/{existing}"}},
            {"request": {"method": "GET", "url": f"Patient/missing-{unique}"}},
            {"request": {"method": "FETCH", "url": "Patient"}},
        ],
    }
    response = writer.post(writer.base_url, json=bundle, headers={"X-Request-ID": f"batch-{unique}"})
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses[0] == "201" and statuses[2] == "403" and statuses[3] == "200" and statuses[4] == "404"
    events = _all_by_request(auditor, flush, f"batch-{unique}", 6)
    assert _outcomes(events) == sorted(
        [("create", "0"), ("create", "4"), ("create", "4"), ("read", "0"), ("read", "4"), ("batch", "4")]
    )
    denied = [e for e in events if e["outcome"] == "4" and "MedicationRequest" in e.get("outcomeDesc", "")]
    assert denied, [e.get("outcomeDesc") for e in events]
    read = next(e for e in events if e["subtype"][0]["code"] == "read" and e["outcome"] == "0")
    assert f"Patient/{existing}" in [x["what"].get("reference") for x in read["entity"] if "what" in x]


def test_every_entry_of_a_failed_transaction_is_audited_as_failed(client_with, client, auditor, flush, unique):
    existing = client.create(patient(f"{unique}-old"))["id"]
    writer = client_with("system/Patient.cruds")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(unique)},
            {"request": {"method": "POST", "url": "MedicationRequest"}, "resource": medication_request(existing)},
            {"request": {"method": "GET", "url": f"Patient/{existing}"}},
        ],
    }
    response = writer.post(writer.base_url, json=bundle, headers={"X-Request-ID": f"txfail-{unique}"})
    assert response.status_code == 403, response.text
    events = _all_by_request(auditor, flush, f"txfail-{unique}", 3)
    assert _outcomes(events) == [("create", "4"), ("create", "4"), ("read", "4")]


def test_a_read_entry_of_a_transaction_is_audited(client, auditor, flush, unique):
    existing = client.create(patient(f"{unique}-old"))["id"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(unique)},
            {"request": {"method": "GET", "url": f"Patient/{existing}"}},
        ],
    }
    response = client.post(client.base_url, json=bundle, headers={"X-Request-ID": f"txread-{unique}"})
    assert response.status_code == 200, response.text
    events = _all_by_request(auditor, flush, f"txread-{unique}", 2)
    assert _outcomes(events) == [("create", "0"), ("read", "0")]


def test_a_failed_token_request_records_the_client_id_claimed_and_never_a_secret(auditor, flush, unique, live_server):
    import json as _json

    import requests

    def b64(part: dict) -> str:
        return base64.urlsafe_b64encode(_json.dumps(part).encode()).decode().rstrip("=")

    forged = f"{b64({'alg': 'RS384', 'typ': 'JWT'})}.{b64({'iss': f'jwt-{unique}', 'sub': f'jwt-{unique}'})}.c2ln"
    attempts = {
        "basic": ({"grant_type": "client_credentials"}, (f"basic-{unique}", f"secret-{unique}")),
        "post": (
            {"grant_type": "client_credentials", "client_id": f"post-{unique}", "client_secret": f"s-{unique}"},
            None,
        ),
        "jwt": (
            {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": forged,
            },
            None,
        ),
    }
    for name, (form, basic) in attempts.items():
        response = requests.post(
            f"{live_server.root_url}/auth/token",
            data=form,
            auth=basic,
            headers={"X-Request-ID": f"tok-{name}-{unique}"},
        )
        assert response.status_code in (400, 401), response.text
        [event] = _by_request(auditor, flush, f"tok-{name}-{unique}")
        assert event["outcome"] == "4"
        assert event["agent"][0]["who"]["identifier"]["value"] == f"{name}-{unique}", event["agent"][0]
        text = _json.dumps(event)
        assert f"secret-{unique}" not in text and f"s-{unique}" not in text and forged not in text


def _patients_of(event: dict) -> set[str]:
    return {e["what"]["reference"] for e in event.get("entity", []) if e.get("role", {}).get("code") == "1"}


def _operation_event(auditor, flush, request_id: str, operation: str) -> dict:
    [event] = _by_request(auditor, flush, request_id)
    assert event["subtype"][0]["code"] == "operation" and event["action"] == "E"
    assert operation in [s["code"] for s in event["subtype"][1:]]
    return event


def test_a_medication_review_names_its_patient(client, auditor, flush, unique):
    subject = client.create(patient(unique))["id"]
    client.create(medication_request(subject))
    response = client.get(f"Patient/{subject}/$medication-review", headers={"X-Request-ID": f"review-{unique}"})
    assert response.status_code == 200, response.text
    event = _operation_event(auditor, flush, f"review-{unique}", "$medication-review")
    assert _patients_of(event) == {f"Patient/{subject}"}


def test_a_group_pdc_names_the_group_and_every_member_measured(client, auditor, flush, unique):
    members = [client.create(patient(f"{unique}-{n}"))["id"] for n in range(3)]
    client.create(medication_dispense(members[0], code="312743", when="2025-02-01", days=30))
    roster = client.create(group(members, identifier=unique))["id"]
    response = client.get(
        f"Group/{roster}/$pdc",
        params={"class": "antipsychotic", "period-start": "2025-01-01", "period-end": "2025-12-31"},
        headers={"X-Request-ID": f"pdc-{unique}"},
    )
    assert response.status_code == 200, response.text
    event = _operation_event(auditor, flush, f"pdc-{unique}", "$pdc")
    assert _patients_of(event) == {f"Patient/{m}" for m in members}
    assert f"Group/{roster}" in [e["what"].get("reference") for e in event["entity"] if "what" in e]
    # and the event is found by each member
    assert event["id"] in [e["id"] for e in _events(auditor, patient=members[2])]


def test_follow_up_gaps_name_the_patients_returned(client, auditor, flush, unique):
    subject = client.create(patient(unique))["id"]
    client.create(medication_request(subject, authoredOn=time.strftime("%Y-%m-%d")))  # sertraline, today
    response = client.get(
        "Patient/$follow-up-gaps", params={"_count": 1000}, headers={"X-Request-ID": f"gaps-{unique}"}
    )
    returned = {f"Patient/{e['resource']['id']}" for e in response.json()["entry"]}
    assert f"Patient/{subject}" in returned
    event = _operation_event(auditor, flush, f"gaps-{unique}", "$follow-up-gaps")
    assert _patients_of(event) == returned


def _hook(patient_id: str, prefetch: dict | None = None) -> dict:
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/example",
            "patientId": patient_id,
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {**medication_request(patient_id, status="draft"), "id": "draft-1"}}],
            },
        },
    }
    return body | ({"prefetch": prefetch} if prefetch is not None else {})


@pytest.mark.parametrize("prefetched", [True, False], ids=["prefetch", "reads"])
def test_a_cds_hooks_call_names_the_context_patient(live_server, client, auditor, flush, unique, prefetched):
    subject = client.create(patient(unique))["id"]
    prefetch = None
    if prefetched:  # everything prefetched: the service reads nothing itself
        prefetch = {"patient": client.get(f"Patient/{subject}").json()}
        prefetch |= dict.fromkeys(("medicationRequests", "medicationStatements", "medicationDispenses", "conditions"))
    response = requests.post(
        f"{live_server.root_url}/cds-services/medication-safety-order-sign",
        json=_hook(subject, prefetch),
        headers={"Authorization": f"Bearer {live_server.token('system/*.cruds')}", "X-Request-ID": f"cds-{unique}"},
    )
    assert response.status_code == 200, response.text
    [event] = _by_request(auditor, flush, f"cds-{unique}")
    assert event["subtype"][0]["code"] == "operation"
    assert "cds-services/medication-safety-order-sign" in [s["code"] for s in event["subtype"][1:]]
    assert _patients_of(event) == {f"Patient/{subject}"}


def test_a_group_export_kick_off_names_the_members(client, auditor, flush, unique):
    members = [client.create(patient(f"{unique}-{n}"))["id"] for n in range(2)]
    roster = client.create(group(members, identifier=unique))["id"]
    response = client.get(
        f"Group/{roster}/$export",
        params={"_type": "Patient"},
        headers={"Prefer": "respond-async", "X-Request-ID": f"export-{unique}"},
    )
    assert response.status_code == 202, response.text
    client.delete(response.headers["Content-Location"])  # the job itself is not under test
    event = _operation_event(auditor, flush, f"export-{unique}", "$export")
    assert _patients_of(event) == {f"Patient/{m}" for m in members}


def test_a_writes_event_is_found_by_what_it_shares_with_other_events(client, auditor, unique):
    """A write's AuditEvent, stored in the write's own statement, names its shape (the keys of client, interaction
    and outcome that many events share, storage/audit_events.py): the statement stores that shape too."""
    subject = client.create(patient(unique))["id"]
    interaction = "http://hl7.org/fhir/restful-interaction"
    for params in (
        {"subtype": f"{interaction}|create"},
        {"subtype": "create", "outcome": "0", "type": "rest"},
        {"subtype:missing": "false", "type:missing": "false"},
    ):
        [event] = _events(auditor, entity=f"Patient/{subject}", **params)
        assert event["subtype"][0] == {"system": interaction, "code": "create"}, params
    assert _events(auditor, entity=f"Patient/{subject}", subtype="read") == []
    assert _events(auditor, entity=f"Patient/{subject}", **{"subtype:not": "create"}) == []


def test_an_event_stored_before_shapes_is_still_found_by_its_shared_keys(auditor, live_server, unique):
    """Events stored before migration 0016 keep every key of their own and name no shape: a criterion on a shared
    parameter still finds them."""
    from datetime import UTC, datetime

    from server.storage import audit_events

    rows = {
        "token": [("type", "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"), ("outcome", None, "0")],
        "reference": [("entity", "Patient", unique)],
    }
    now = datetime.now(UTC)
    event = {"resourceType": "AuditEvent", "id": f"old-{unique}", "recorded": now.isoformat()}
    with live_server.app.extensions["fhir.services"].database.transaction() as conn:
        audit_events.append(
            conn, [(f"old-{unique}", now, now, audit_events.keys(rows), orjson.dumps(event).decode(), None)]
        )
    for params in ({"type": "rest"}, {"outcome": "0"}, {"type:missing": "false"}):
        assert [e["id"] for e in _events(auditor, entity=f"Patient/{unique}", **params)] == [f"old-{unique}"], params
    assert _events(auditor, entity=f"Patient/{unique}", outcome="4") == []
    assert _events(auditor, entity=f"Patient/{unique}", **{"type:not": "rest"}) == []


def test_what_events_share_is_stored_once_and_read_back_whole(client, auditor, flush, unique, live_server):
    """Two reads by one client: each event's row keeps only its own members, their shared ones are one row of
    audit_shapes, and a read and a search of either give the whole event."""
    subject = client.create(patient(unique))["id"]
    for n in (1, 2):
        assert client.get(f"Patient/{subject}", headers={"X-Request-ID": f"whole-{n}-{unique}"}).status_code == 200
    events = [_by_request(auditor, flush, f"whole-{n}-{unique}")[0] for n in (1, 2)]
    with live_server.app.extensions["fhir.services"].database.connection() as conn:
        rows = conn.execute(
            "SELECT a.content, a.shape, s.members FROM audit_events a JOIN audit_shapes s ON s.hash = a.shape"
            " WHERE a.id = ANY(%s) ORDER BY a.recorded",
            ([e["id"] for e in events],),
        ).fetchall()
    assert len(rows) == 2 and rows[0][1] == rows[1][1]  # one shape for both
    for (content, _, members), event in zip(rows, events, strict=True):
        own = orjson.loads(content)
        assert "agent" not in own and "source" not in own and own["entity"] == event["entity"]
        assert orjson.loads(content[:-1] + members) == event
        assert auditor.get(f"AuditEvent/{event['id']}").json() == event
    assert event["agent"][0]["who"]["identifier"]["value"] == "tests"
    assert event["source"]["observer"] == {"display": "fhir-server"}
