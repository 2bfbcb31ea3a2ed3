"""_include and _revinclude (R4 search.html#include), under the access policy."""

from __future__ import annotations

from tests.factories import condition, medication_request, patient


def _modes(bundle):
    return {(e["resource"]["resourceType"], e["resource"]["id"]): e["search"]["mode"] for e in bundle.get("entry", [])}


def test_include_brings_the_referenced_patient(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    bundle = client.get("MedicationRequest", params={"_id": request, "_include": "MedicationRequest:patient"}).json()
    assert _modes(bundle) == {("MedicationRequest", request): "match", ("Patient", subject): "include"}
    assert bundle["total"] == 1


def test_revinclude_brings_referring_resources(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    diagnosis = client.create(condition(subject))["id"]
    bundle = client.get(
        "Patient",
        params=[("_id", subject), ("_revinclude", "MedicationRequest:patient"), ("_revinclude", "Condition:subject")],
    ).json()
    assert _modes(bundle) == {
        ("Patient", subject): "match",
        ("MedicationRequest", request): "include",
        ("Condition", diagnosis): "include",
    }


def test_include_wildcard_and_iterate(client, unique):
    linked = client.create(patient(unique + "l"))["id"]
    subject = client.create(patient(unique, link=[{"other": {"reference": f"Patient/{linked}"}, "type": "seealso"}]))[
        "id"
    ]
    request = client.create(medication_request(subject))["id"]
    flat = client.get("MedicationRequest", params={"_id": request, "_include": "*"}).json()
    assert ("Patient", subject) in _modes(flat) and ("Patient", linked) not in _modes(flat)
    iterated = client.get(
        "MedicationRequest",
        params=[("_id", request), ("_include", "MedicationRequest:patient"), ("_include:iterate", "Patient:link")],
    ).json()
    assert _modes(iterated)[("Patient", linked)] == "include"


def test_included_resources_respect_patient_scope(client, client_with, unique):
    mine = client.create(patient(unique + "m"))["id"]
    other = client.create(patient(unique + "o", link=[{"other": {"reference": f"Patient/{mine}"}, "type": "seealso"}]))[
        "id"
    ]
    client.create(medication_request(other))
    reader = client_with("patient/*.rs", patient=mine)
    bundle = reader.get(
        "Patient", params=[("_id", mine), ("_revinclude", "Patient:link"), ("_revinclude", "MedicationRequest:patient")]
    ).json()
    assert set(_modes(bundle)) == {("Patient", mine)}


def test_included_types_need_a_granted_scope(client, client_with, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    reader = client_with("system/MedicationRequest.rs")
    bundle = reader.get("MedicationRequest", params={"_id": request, "_include": "MedicationRequest:patient"}).json()
    assert set(_modes(bundle)) == {("MedicationRequest", request)}


def test_invalid_include_returns_400(client):
    assert client.get("MedicationRequest", params={"_include": "MedicationRequest:status"}).status_code == 400
    assert client.get("MedicationRequest", params={"_include": "nonsense"}).status_code == 400


def test_included_resources_respect_granular_scopes(client, client_with, unique):
    subject = client.create(patient(unique))["id"]
    problem = client.create(
        condition(
            subject,
            category=[
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
        )
    )["id"]
    client.create(condition(subject))  # no category: outside the granular scope
    scope = (
        "system/Patient.rs system/Condition.rs?category="
        "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
    )
    reader = client_with(scope)
    bundle = reader.get("Patient", params={"_id": subject, "_revinclude": "Condition:patient"}).json()
    assert set(_modes(bundle)) == {("Patient", subject), ("Condition", problem)}
