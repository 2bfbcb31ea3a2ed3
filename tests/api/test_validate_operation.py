"""$validate (R4 resource-operation-validate.html): an OperationOutcome, 200 whether valid or not,
and nothing stored."""

from __future__ import annotations

from tests.factories import MRN, medication_request, patient


def _severities(response) -> set[str]:
    return {issue["severity"] for issue in response.json()["issue"]}


def test_validate_valid_resource_returns_information_only(client, unique):
    response = client.post("Patient/$validate", json=patient(unique))
    assert response.status_code == 200
    assert response.json()["resourceType"] == "OperationOutcome"
    assert _severities(response) == {"information"}
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 0


def test_validate_invalid_resource_returns_the_errors_with_200(client, unique):
    response = client.post("Patient/$validate", json={**patient(unique), "gender": "martian"})
    assert response.status_code == 200
    issue = response.json()["issue"][0]
    assert issue["severity"] == "error"
    assert issue["expression"] == ["Patient.gender"]


def test_validate_accepts_a_parameters_body_with_mode(client, unique):
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": medication_request("missing")},
            {"name": "mode", "valueCode": "create"},
        ],
    }
    response = client.post("MedicationRequest/$validate", json=body)
    assert response.status_code == 200
    assert "Patient/missing" in response.json()["issue"][0]["diagnostics"]


def test_validate_mode_create_checks_references(client, unique):
    subject = client.create(patient(unique))
    ok = client.post("MedicationRequest/$validate", params={"mode": "create"}, json=medication_request(subject["id"]))
    assert _severities(ok) == {"information"}
    bad = client.post("MedicationRequest/$validate", params={"mode": "create"}, json=medication_request("nobody"))
    assert _severities(bad) == {"error"}


def test_validate_mode_update_checks_the_id(client, unique):
    created = client.create(patient(unique))
    ok = client.post(f"Patient/{created['id']}/$validate", params={"mode": "update"}, json=created)
    assert _severities(ok) == {"information"}
    wrong = client.post(
        f"Patient/{created['id']}/$validate", params={"mode": "update"}, json={**created, "id": "other"}
    )
    assert _severities(wrong) == {"error"}
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_validate_mode_delete_reports_referrers(client, unique):
    subject = client.create(patient(unique))
    response = client.post(f"Patient/{subject['id']}/$validate", params={"mode": "delete"})
    assert _severities(response) == {"information"}
    prescription = client.create(medication_request(subject["id"]))
    response = client.post(f"Patient/{subject['id']}/$validate", params={"mode": "delete"})
    assert _severities(response) >= {"error"}
    assert f"MedicationRequest/{prescription['id']}" in response.json()["issue"][0]["diagnostics"]
    assert client.get(f"Patient/{subject['id']}").status_code == 200


def test_validate_mode_update_at_type_level_returns_400(client, unique):
    assert client.post("Patient/$validate", params={"mode": "update"}, json=patient(unique)).status_code == 400


def test_validate_of_a_body_of_another_type_reports_it(client, unique):
    response = client.post("MedicationRequest/$validate", json=patient(unique))
    assert response.status_code == 200
    assert _severities(response) == {"error"}


def test_metadata_declares_validate_and_everything(client):
    resources = {r["type"]: r for r in client.get("metadata").json()["rest"][0]["resource"]}
    assert {op["name"] for op in resources["Patient"]["operation"]} == {
        "validate",
        "everything",
        "medication-review",
        "follow-up-gaps",
        "export",
    }
    assert {op["name"] for op in resources["Condition"]["operation"]} == {"validate"}
    assert all(
        op["definition"].startswith("http://hl7.org/fhir/OperationDefinition/")
        for op in resources["Patient"]["operation"]
        if op["name"] in ("validate", "everything")
    )
    system = {i["code"] for i in client.get("metadata").json()["rest"][0]["interaction"]}
    assert {"transaction", "batch"} <= system


def test_a_bad_mode_in_a_parameters_body_is_pointed_at_there(client):
    body = {"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "sideways"}]}
    response = client.post("Patient/$validate", json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Parameters.parameter[0]"]
    assert client.post("Patient/$validate?mode=sideways", json={"resourceType": "Patient"}).json()["issue"][0][
        "location"
    ] == ["http.mode"]
