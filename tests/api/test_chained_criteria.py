"""Chained and _has criteria (R4 search.html#chaining, #has) work wherever search criteria are taken,
not only in a search: If-None-Exist (http.html#ccreate), conditional references in a transaction
(http.html#trules), conditional update, and SMART v2 granular scopes."""

from __future__ import annotations

from tests.factories import MRN, condition, medication_request, patient

SNOMED = "http://snomed.info/sct"


def _mrn(unique: str) -> str:
    return f"{MRN}|{unique}"


def test_if_none_exist_with_a_chained_parameter_finds_the_match(client, unique):
    subject = client.create(patient(unique))["id"]
    existing = client.create(condition(subject))
    criteria = f"subject:Patient.identifier={_mrn(unique)}&code={SNOMED}|35489007"
    response = client.post("Condition", json=condition(subject), headers={"If-None-Exist": criteria})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == existing["id"]


def test_if_none_exist_with_a_has_parameter_finds_the_match(client, unique):
    subject = client.create(patient(unique))
    client.create(condition(subject["id"], code={"coding": [{"system": SNOMED, "code": unique}]}))
    response = client.post(
        "Patient",
        json=patient(unique, family="Other"),
        headers={"If-None-Exist": f"_has:Condition:subject:code={SNOMED}|{unique}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == subject["id"]


def test_conditional_update_with_a_chained_parameter_updates_the_match(client, unique):
    subject = client.create(patient(unique))["id"]
    existing = client.create(condition(subject))
    response = client.put(
        "Condition", params={"subject.identifier": _mrn(unique)}, json=condition(subject, recordedDate="2026-01-02")
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == existing["id"]
    assert response.json()["meta"]["versionId"] == "2"


def test_transaction_resolves_a_conditional_reference_with_has(client, unique):
    target = client.create(patient(unique))
    client.create(condition(target["id"], code={"coding": [{"system": SNOMED, "code": unique}]}))
    reference = f"Patient?_has:Condition:subject:code={SNOMED}|{unique}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": medication_request("x", subject={"reference": reference}),
                "request": {"method": "POST", "url": "MedicationRequest"},
            }
        ],
    }
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 200, response.text
    request_id = response.json()["entry"][0]["response"]["location"].split("/")[1]
    assert client.get(f"MedicationRequest/{request_id}").json()["subject"]["reference"] == f"Patient/{target['id']}"


def test_granular_scope_with_a_chained_parameter_limits_search(client, client_with, unique):
    mine = client.create(patient(unique))["id"]
    other = client.create(patient(f"{unique}-other"))["id"]
    inside, outside = client.create(condition(mine))["id"], client.create(condition(other))["id"]
    reader = client_with(f"system/Condition.rs?subject:Patient.identifier={_mrn(unique)}")
    response = reader.get("Condition", params={"_id": f"{inside},{outside}"})
    assert response.status_code == 200, response.text
    assert [e["resource"]["id"] for e in response.json()["entry"]] == [inside]


def test_granular_scope_with_a_chained_parameter_decides_a_read(client, client_with, unique):
    mine = client.create(patient(unique))["id"]
    other = client.create(patient(f"{unique}-other"))["id"]
    inside, outside = client.create(condition(mine))["id"], client.create(condition(other))["id"]
    reader = client_with(f"system/Condition.rs?subject:Patient.identifier={_mrn(unique)}")
    assert reader.get(f"Condition/{inside}").status_code == 200
    denied = reader.get(f"Condition/{outside}")
    assert denied.status_code == 403
    assert denied.json()["resourceType"] == "OperationOutcome"


def test_granular_scope_with_a_chained_parameter_refuses_a_create_saying_why(client, client_with, unique):
    mine = client.create(patient(unique))["id"]
    writer = client_with(f"system/Condition.crs?subject:Patient.identifier={_mrn(unique)}")
    response = writer.post("Condition", json=condition(mine))
    assert response.status_code == 403
    assert "chained or _has" in response.json()["issue"][0]["diagnostics"]
