"""FHIR_PRACTITIONER_ACCESS=assigned: a Practitioner's user/ scopes reach only the patients whose
generalPractitioner they are (SMART app-launch.html#scopes: user/ scopes are limited by the user's access)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import FhirClient, LiveServer
from tests.factories import medication_request, patient

TAG = "urn:test:practitioner-access"


@pytest.fixture(scope="module")
def assigned_server(settings):
    server = LiveServer(dataclasses.replace(settings, practitioner_access="assigned"))
    yield server
    server.stop()


@pytest.fixture
def world(assigned_server, unique):
    """Practitioner X's patient with one MedicationRequest, and another's patient with one."""
    practitioner = f"pr-{unique}"
    with FhirClient(assigned_server.base_url, assigned_server.token("system/*.cruds")) as admin:
        for doctor in (practitioner, "someone-else"):  # generalPractitioner targets must exist
            assert admin.put(f"Practitioner/{doctor}", json={"resourceType": "Practitioner", "id": doctor}).ok
        mine = admin.create(
            patient(mrn=f"a-{unique}", generalPractitioner=[{"reference": f"Practitioner/{practitioner}"}])
        )
        other = admin.create(
            patient(mrn=f"b-{unique}", generalPractitioner=[{"reference": "Practitioner/someone-else"}])
        )
        identifier = [{"system": TAG, "value": unique}]
        my_request = admin.create(medication_request(mine["id"], identifier=identifier))
        other_request = admin.create(medication_request(other["id"], identifier=identifier))
    return {
        "practitioner": practitioner,
        "mine": mine["id"],
        "other": other["id"],
        "unique": unique,
        "my_request": my_request["id"],
        "other_request": other_request["id"],
    }


@pytest.fixture
def practitioner_client(assigned_server, world):
    token = assigned_server.token("user/*.cruds", fhir_user=f"Practitioner/{world['practitioner']}")
    with FhirClient(assigned_server.base_url, token) as session:
        yield session


def _ids(bundle: dict, resource_type: str) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == resource_type}


def test_read_of_assigned_patient_succeeds_and_unassigned_returns_404(practitioner_client, world):
    assert practitioner_client.get(f"Patient/{world['mine']}").status_code == 200
    assert practitioner_client.get(f"MedicationRequest/{world['my_request']}").status_code == 200
    assert practitioner_client.get(f"Patient/{world['other']}").status_code == 404
    assert practitioner_client.get(f"MedicationRequest/{world['other_request']}").status_code == 404
    assert practitioner_client.get(f"MedicationRequest/{world['other_request']}/_history/1").status_code == 404


def test_search_returns_only_assigned_patients_medication_requests(practitioner_client, world):
    response = practitioner_client.get("MedicationRequest", params={"identifier": f"{TAG}|{world['unique']}"})
    assert response.status_code == 200, response.text
    assert _ids(response.json(), "MedicationRequest") == {world["my_request"]}
    assert response.json()["total"] == 1
    patients = practitioner_client.get("Patient", params={"identifier": f"a-{world['unique']},b-{world['unique']}"})
    assert _ids(patients.json(), "Patient") == {world["mine"]}


def test_search_includes_only_assigned_patients(practitioner_client, world):
    response = practitioner_client.get(
        "Patient",
        params={"identifier": f"a-{world['unique']},b-{world['unique']}", "_revinclude": "MedicationRequest:subject"},
    )
    assert _ids(response.json(), "MedicationRequest") == {world["my_request"]}
    included = practitioner_client.get(
        "MedicationRequest", params={"identifier": f"{TAG}|{world['unique']}", "_include": "MedicationRequest:subject"}
    ).json()
    assert _ids(included, "Patient") == {world["mine"]}


def test_everything_of_unassigned_patient_returns_404(practitioner_client, world):
    mine = practitioner_client.get(f"Patient/{world['mine']}/$everything")
    assert mine.status_code == 200, mine.text
    assert _ids(mine.json(), "MedicationRequest") == {world["my_request"]}
    assert practitioner_client.get(f"Patient/{world['other']}/$everything").status_code == 404


def test_history_is_filtered_to_assigned_patients(practitioner_client, world):
    mine = practitioner_client.get(f"MedicationRequest/{world['my_request']}/_history").json()
    other = practitioner_client.get(f"MedicationRequest/{world['other_request']}/_history")
    assert _ids(mine, "MedicationRequest") == {world["my_request"]}
    assert other.status_code == 404  # as for read: an unreachable resource looks unknown
    history = practitioner_client.get("MedicationRequest/_history", params={"_count": "1000"}).json()
    ids = _ids(history, "MedicationRequest")
    assert world["my_request"] in ids and world["other_request"] not in ids


def test_create_for_unassigned_patient_returns_403(practitioner_client, world):
    denied = practitioner_client.post("MedicationRequest", json=medication_request(world["other"]))
    assert denied.status_code == 403, denied.text
    assert practitioner_client.post("MedicationRequest", json=medication_request(world["mine"])).status_code == 201


def test_update_and_delete_of_unassigned_patients_resource_are_refused(practitioner_client, world):
    body = {**medication_request(world["other"]), "id": world["other_request"]}
    assert practitioner_client.put(f"MedicationRequest/{world['other_request']}", json=body).status_code == 403
    assert practitioner_client.delete(f"MedicationRequest/{world['other_request']}").status_code == 404


def test_practitioner_sees_every_patient_when_access_is_all(live_server, world):
    token = live_server.token("user/*.cruds", fhir_user=f"Practitioner/{world['practitioner']}")
    with FhirClient(live_server.base_url, token) as session:
        assert session.get(f"Patient/{world['other']}").status_code == 200
        found = session.get("MedicationRequest", params={"identifier": f"{TAG}|{world['unique']}"}).json()
    assert _ids(found, "MedicationRequest") == {world["my_request"], world["other_request"]}


def test_patient_user_scope_is_unchanged_when_access_is_assigned(assigned_server, world):
    token = assigned_server.token("user/*.rs", fhir_user=f"Patient/{world['other']}")
    with FhirClient(assigned_server.base_url, token) as session:
        found = session.get("MedicationRequest", params={"identifier": f"{TAG}|{world['unique']}"}).json()
    assert _ids(found, "MedicationRequest") == {world["other_request"]}


def test_practitioner_reads_their_own_practitioner_record(practitioner_client, world):
    own = practitioner_client.get(f"Practitioner/{world['practitioner']}")
    assert own.status_code == 200, own.text
    assert practitioner_client.get(f"Practitioner/{world['practitioner']}/_history/1").status_code == 200
    history = practitioner_client.get(f"Practitioner/{world['practitioner']}/_history").json()
    assert [e["resource"]["id"] for e in history["entry"]] == [world["practitioner"]]
    assert practitioner_client.get("Practitioner/someone-else").status_code == 404


def test_an_assigned_practitioners_audit_search_answers_instead_of_failing(assigned_server, world):
    """AuditEvents are in no patient compartment: confined to assigned patients, the search finds none
    (the same answer as before they had a table of their own), never a 500."""
    token = assigned_server.token("user/AuditEvent.rs", fhir_user=f"Practitioner/{world['practitioner']}")
    with FhirClient(assigned_server.base_url, token) as auditor:
        for params in ({"_count": 5}, {"patient": world["mine"]}):
            response = auditor.get("AuditEvent", params=params)
            assert response.status_code == 200, response.text
            assert response.json().get("entry", []) == []
