"""Referential integrity (R4 references.html): local references must resolve; a referenced resource
is not deleted unless cascading, which the server allows only when configured to."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import FhirClient, LiveServer
from tests.factories import condition, medication_request, patient


@pytest.fixture(scope="module")
def permissive_server(settings):
    """A second server with dangling references, cascading and multiple deletes allowed."""
    server = LiveServer(
        dataclasses.replace(
            settings, allow_dangling_references=True, allow_cascade_delete=True, allow_multiple_delete=True
        )
    )
    yield server
    server.stop()


@pytest.fixture
def permissive(permissive_server):
    with FhirClient(permissive_server.base_url, permissive_server.token("system/*.cruds")) as session:
        yield session


def test_create_with_reference_to_missing_patient_returns_422(client):
    response = client.post("MedicationRequest", json=medication_request("no-such-patient"))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["MedicationRequest.subject"]
    assert "Patient/no-such-patient" in issue["diagnostics"]


def test_create_with_reference_to_deleted_patient_returns_422(client, unique):
    subject = client.create(patient(unique))
    client.delete(f"Patient/{subject['id']}")
    assert client.post("MedicationRequest", json=medication_request(subject["id"])).status_code == 422


def test_update_with_reference_to_missing_resource_returns_422_and_keeps_the_version(client, unique):
    subject = client.create(patient(unique))
    created = client.create(medication_request(subject["id"]))
    changed = {**created, "subject": {"reference": "Patient/gone-missing"}}
    assert client.put(f"MedicationRequest/{created['id']}", json=changed).status_code == 422
    assert client.get(f"MedicationRequest/{created['id']}").json()["meta"]["versionId"] == "1"


def test_absolute_reference_to_this_server_is_checked_and_to_another_is_not(client, unique):
    subject = client.create(patient(unique))
    ours = medication_request("x", subject={"reference": f"{client.base_url}/Patient/{subject['id']}"})
    assert client.post("MedicationRequest", json=ours).status_code == 201
    missing = medication_request("x", subject={"reference": f"{client.base_url}/Patient/missing"})
    assert client.post("MedicationRequest", json=missing).status_code == 422
    external = medication_request("x", subject={"reference": "https://other.example/fhir/Patient/1"})
    assert client.post("MedicationRequest", json=external).status_code == 201


def test_delete_of_referenced_patient_returns_409_naming_the_referrers(client, unique):
    subject = client.create(patient(unique))
    prescription = client.create(medication_request(subject["id"]))
    diagnosis = client.create(condition(subject["id"]))
    response = client.delete(f"Patient/{subject['id']}")
    assert response.status_code == 409
    text = response.json()["issue"][0]["diagnostics"]
    assert f"MedicationRequest/{prescription['id']}" in text
    assert f"Condition/{diagnosis['id']}" in text
    assert client.get(f"Patient/{subject['id']}").status_code == 200


def test_delete_after_referrers_are_deleted_succeeds(client, unique):
    subject = client.create(patient(unique))
    prescription = client.create(medication_request(subject["id"]))
    assert client.delete(f"MedicationRequest/{prescription['id']}").status_code == 200
    assert client.delete(f"Patient/{subject['id']}").status_code == 200


def test_cascade_delete_is_refused_unless_configured(client, unique):
    subject = client.create(patient(unique))
    client.create(medication_request(subject["id"]))
    assert client.delete(f"Patient/{subject['id']}", params={"_cascade": "delete"}).status_code == 400


def test_cascade_delete_deletes_the_referrers_when_configured(permissive, unique):
    subject = permissive.create(patient(unique))
    prescription = permissive.create(medication_request(subject["id"]))
    response = permissive.delete(f"Patient/{subject['id']}", params={"_cascade": "delete"})
    assert response.status_code == 200
    assert permissive.get(f"Patient/{subject['id']}").status_code == 410
    assert permissive.get(f"MedicationRequest/{prescription['id']}").status_code == 410


def test_dangling_references_are_stored_when_configured(permissive):
    assert permissive.post("MedicationRequest", json=medication_request("nobody-here")).status_code == 201


def test_conditional_delete_of_several_matches_when_configured(permissive, unique):
    from tests.factories import MRN

    permissive.create(patient(unique))
    permissive.create(patient(unique))
    assert permissive.delete(f"Patient?identifier={MRN}|{unique}").status_code == 200
    assert permissive.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 0


def test_metadata_declares_the_configured_delete_policy(client, permissive):
    assert client.get("metadata").json()["rest"][0]["resource"][0]["conditionalDelete"] == "single"
    assert permissive.get("metadata").json()["rest"][0]["resource"][0]["conditionalDelete"] == "multiple"


def test_conditional_reference_in_a_plain_create_is_resolved(client, unique):
    from tests.factories import MRN

    subject = client.create(patient(unique))
    created = client.create(medication_request("x", subject={"reference": f"Patient?identifier={MRN}|{unique}"}))
    assert created["subject"]["reference"] == f"Patient/{subject['id']}"


def test_a_reference_to_another_patients_resource_reads_as_a_missing_one(client, client_with, unique):
    """A patient's token must not learn whether another patient's resource exists: referring to it is
    refused exactly like referring to one that does not exist (same status, same words)."""
    mine = client.create(patient(f"{unique}-me"))["id"]
    theirs = client.create(patient(f"{unique}-them"))["id"]
    their_condition = client.create(condition(theirs))["id"]
    own = client_with("patient/*.cruds", patient=mine)

    def refer(target: str):
        return own.post("MedicationRequest", json=medication_request(mine, reasonReference=[{"reference": target}]))

    hidden, missing = refer(f"Condition/{their_condition}"), refer(f"Condition/nothing-{unique}")
    assert hidden.status_code == missing.status_code == 422, (hidden.text, missing.text)
    assert hidden.text.replace(their_condition, "X") == missing.text.replace(f"nothing-{unique}", "X")
    # and the same through $validate
    validated = [
        own.post(
            "MedicationRequest/$validate",
            json=medication_request(mine, reasonReference=[{"reference": target}]),
        )
        for target in (f"Condition/{their_condition}", f"Condition/nothing-{unique}")
    ]
    assert validated[0].status_code == validated[1].status_code
    assert validated[0].text.replace(their_condition, "X") == validated[1].text.replace(f"nothing-{unique}", "X")
    # a resource outside every patient compartment, and the patient's own, are referred to as before
    assert client.put("Practitioner/pr-" + unique, json={"resourceType": "Practitioner", "id": "pr-" + unique}).ok
    own_condition = own.create(condition(mine))["id"]
    allowed = own.post(
        "MedicationRequest",
        json=medication_request(
            mine,
            reasonReference=[{"reference": f"Condition/{own_condition}"}],
            requester={"reference": f"Practitioner/pr-{unique}"},
        ),
    )
    assert allowed.status_code == 201, allowed.text
