"""Scopes enforced on every path (scopes-and-launch-context.html): patient/ scopes never reach another
patient's data on read, vread, history, search (with or without a patient parameter) and compartment
search; v2 granular scopes limit reads and searches; user/ scopes of a Patient user stay in their record."""

from __future__ import annotations

import pytest

from tests.factories import condition, medication_request, patient

CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


@pytest.fixture
def two_patients(client, unique):
    mine = client.create(patient(unique + "a"))
    other = client.create(patient(unique + "b"))
    return mine, other, client.create(medication_request(mine["id"])), client.create(medication_request(other["id"]))


def test_patient_scope_cannot_read_or_vread_another_patients_data(client_with, two_patients):
    mine, other, my_request, other_request = two_patients
    reader = client_with("patient/*.rs", patient=mine["id"])
    assert reader.get(f"MedicationRequest/{my_request['id']}/_history/1").status_code == 200
    assert reader.get(f"MedicationRequest/{other_request['id']}").status_code in (403, 404)
    assert reader.get(f"MedicationRequest/{other_request['id']}/_history/1").status_code in (403, 404)
    assert reader.get(f"Patient/{other['id']}/_history/1").status_code in (403, 404)


def test_patient_scope_history_stays_in_the_compartment(client_with, two_patients):
    mine, other, my_request, other_request = two_patients
    reader = client_with("patient/*.rs", patient=mine["id"])
    instance = reader.get(f"MedicationRequest/{other_request['id']}/_history")
    assert instance.status_code == 404
    type_history = reader.get("MedicationRequest/_history", params={"_count": 1000}).json()
    ids = {e["resource"]["id"] for e in type_history.get("entry", []) if "resource" in e}
    assert my_request["id"] in ids and other_request["id"] not in ids
    system = reader.get("_history", params={"_count": 1000}).json()
    assert other["id"] not in {e["resource"]["id"] for e in system.get("entry", []) if "resource" in e}


def test_patient_scope_search_is_filtered_with_or_without_patient_parameter(client_with, two_patients):
    mine, other, my_request, other_request = two_patients
    reader = client_with("patient/*.rs", patient=mine["id"])
    unfiltered = reader.get("MedicationRequest", params={"_id": f"{my_request['id']},{other_request['id']}"}).json()
    assert [e["resource"]["id"] for e in unfiltered["entry"]] == [my_request["id"]]
    for_other = reader.get("MedicationRequest", params={"patient": other["id"]})
    assert for_other.status_code in (403, 200)
    assert for_other.status_code == 403 or for_other.json()["total"] == 0
    patients = reader.get("Patient", params={"_id": f"{mine['id']},{other['id']}"}).json()
    assert [e["resource"]["id"] for e in patients["entry"]] == [mine["id"]]


def test_patient_scope_compartment_search_of_another_patient_finds_nothing(client_with, two_patients):
    mine, other, _, _ = two_patients
    reader = client_with("patient/*.rs", patient=mine["id"])
    response = reader.get(f"Patient/{other['id']}/MedicationRequest")
    assert response.status_code in (403, 404) or response.json()["total"] == 0


def test_patient_scope_cannot_write_for_another_patient(client_with, two_patients):
    mine, other, _, other_request = two_patients
    writer = client_with("patient/*.cruds", patient=mine["id"])
    assert writer.post("MedicationRequest", json=medication_request(other["id"])).status_code == 403
    assert writer.post("MedicationRequest", json=medication_request(mine["id"])).status_code == 201
    assert (
        writer.put(
            f"MedicationRequest/{other_request['id']}",
            json={**medication_request(mine["id"]), "id": other_request["id"]},
        ).status_code
        == 403
    )


def test_patient_scope_cannot_recreate_another_patients_deleted_resource(client, client_with, two_patients):
    """A deleted resource stays in its patient's compartment: an update through another patient's
    token may not write a new version under its id (the guard checks the stored version, deleted or not)."""
    mine, _, _, other_request = two_patients
    assert client.delete(f"MedicationRequest/{other_request['id']}").status_code == 200
    writer = client_with("patient/*.cruds", patient=mine["id"])
    response = writer.put(
        f"MedicationRequest/{other_request['id']}", json={**medication_request(mine["id"]), "id": other_request["id"]}
    )
    assert response.status_code == 403
    assert client.get(f"MedicationRequest/{other_request['id']}").status_code == 410


def test_patient_scope_delete_of_another_patients_deleted_resource_is_not_found(client, client_with, two_patients):
    """Deleting what the token cannot see answers 404, deleted or not, so its existence does not leak."""
    mine, _, _, other_request = two_patients
    writer = client_with("patient/*.cruds", patient=mine["id"])
    assert writer.delete(f"MedicationRequest/{other_request['id']}").status_code == 404
    assert client.delete(f"MedicationRequest/{other_request['id']}").status_code == 200
    assert writer.delete(f"MedicationRequest/{other_request['id']}").status_code == 404


def test_validate_create_for_another_patient_is_refused_as_the_create_would_be(client_with, two_patients):
    """$validate answers whether the write would be accepted (resource-operation-validate.html): for another
    patient's compartment it would not, so 403 as for the create itself, and 200 for the token's own patient."""
    mine, other, _, _ = two_patients
    writer = client_with("patient/*.cruds", patient=mine["id"])
    refused = writer.post(
        "MedicationRequest/$validate", params={"mode": "create"}, json=medication_request(other["id"])
    )
    assert refused.status_code == 403
    accepted = writer.post(
        "MedicationRequest/$validate", params={"mode": "create"}, json=medication_request(mine["id"])
    )
    assert accepted.status_code == 200, accepted.text


def test_delete_conflict_names_only_referrers_the_token_may_read(client, client_with, two_patients, unique):
    """A 409 names the resources still referring to the target (references.html); another patient's
    referrer is counted, not identified, for a patient/ token."""
    mine, _, my_request, _ = two_patients
    linked = client.create(
        patient(unique + "c", link=[{"other": {"reference": f"Patient/{mine['id']}"}, "type": "seealso"}])
    )
    writer = client_with("patient/*.cruds", patient=mine["id"])
    response = writer.delete(f"Patient/{mine['id']}")
    assert response.status_code == 409
    assert f"MedicationRequest/{my_request['id']}" in response.text
    assert linked["id"] not in response.text and "1 resource(s) the granted scopes do not reach" in response.text
    assert linked["id"] in client.delete(f"Patient/{mine['id']}").text


def test_read_only_scope_cannot_write_and_ungranted_type_is_forbidden(client_with, two_patients):
    mine, _, _, _ = two_patients
    reader = client_with("patient/MedicationRequest.read", patient=mine["id"])
    assert reader.post("MedicationRequest", json=medication_request(mine["id"])).status_code == 403
    assert reader.get(f"Patient/{mine['id']}").status_code == 403


def test_user_scope_of_a_patient_user_is_confined_to_their_record(client_with, two_patients):
    mine, other, my_request, other_request = two_patients
    user = client_with("user/*.rs", fhir_user=f"Patient/{mine['id']}")
    assert user.get(f"MedicationRequest/{my_request['id']}").status_code == 200
    assert user.get(f"MedicationRequest/{other_request['id']}").status_code in (403, 404)
    found = user.get("MedicationRequest", params={"_id": f"{my_request['id']},{other_request['id']}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [my_request["id"]]


def test_user_scope_of_a_practitioner_reaches_every_patient(client_with, two_patients):
    _, _, my_request, other_request = two_patients
    user = client_with("user/*.rs", fhir_user="Practitioner/dr1")
    assert user.get(f"MedicationRequest/{other_request['id']}").status_code == 200
    assert user.get(f"MedicationRequest/{my_request['id']}").status_code == 200


@pytest.fixture
def categorized(client, unique):
    mine = client.create(patient(unique))
    problem = client.create(
        condition(mine["id"], category=[{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}])
    )
    diagnosis = client.create(
        condition(mine["id"], category=[{"coding": [{"system": CATEGORY, "code": "encounter-diagnosis"}]}])
    )
    return mine, problem, diagnosis


def test_granular_scope_limits_search(client_with, categorized):
    mine, problem, diagnosis = categorized
    reader = client_with(f"patient/Condition.rs?category={CATEGORY}|problem-list-item", patient=mine["id"])
    found = reader.get("Condition").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [problem["id"]]
    explicit = reader.get("Condition", params={"category": f"{CATEGORY}|encounter-diagnosis"}).json()
    assert explicit["total"] == 0


def test_granular_scope_limits_read(client_with, categorized):
    mine, problem, diagnosis = categorized
    reader = client_with(f"patient/Condition.rs?category={CATEGORY}|problem-list-item", patient=mine["id"])
    assert reader.get(f"Condition/{problem['id']}").status_code == 200
    assert reader.get(f"Condition/{diagnosis['id']}").status_code == 403
    assert reader.get(f"Condition/{diagnosis['id']}/_history/1").status_code == 403


def test_two_granular_scopes_on_one_parameter_grant_both(client_with, categorized):
    mine, problem, diagnosis = categorized
    reader = client_with(
        f"patient/Condition.rs?category={CATEGORY}|problem-list-item "
        f"patient/Condition.rs?category={CATEGORY}|encounter-diagnosis",
        patient=mine["id"],
    )
    assert reader.get("Condition").json()["total"] == 2


def test_granular_scope_plus_unrestricted_scope_grants_everything(client_with, categorized):
    mine, problem, diagnosis = categorized
    reader = client_with(
        f"patient/Condition.rs?category={CATEGORY}|problem-list-item patient/Condition.rs", patient=mine["id"]
    )
    assert reader.get(f"Condition/{diagnosis['id']}").status_code == 200


def test_granular_write_scope_refuses_resources_outside_it(client_with, unique, client):
    mine = client.create(patient(unique))
    writer = client_with(f"patient/Condition.c?category={CATEGORY}|problem-list-item", patient=mine["id"])
    outside = condition(mine["id"], category=[{"coding": [{"system": CATEGORY, "code": "encounter-diagnosis"}]}])
    inside = condition(mine["id"], category=[{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}])
    assert writer.post("Condition", json=outside).status_code == 403
    assert writer.post("Condition", json=inside).status_code == 201
