"""Forms of search (R4 http.html#search): POST _search, compartment search, search across types."""

from __future__ import annotations

from tests.api.search.helpers import found, ids
from tests.factories import condition, medication_request, patient


def test_compartment_search_returns_only_that_patients_resources(client, unique):
    mine = client.create(patient(unique))["id"]
    other = client.create(patient(unique))["id"]
    wanted = client.create(medication_request(mine, status="active"))["id"]
    client.create(medication_request(mine, status="stopped"))
    client.create(medication_request(other, status="active"))
    bundle = client.get(f"Patient/{mine}/MedicationRequest", params={"status": "active"}).json()
    assert ids(bundle) == [wanted]
    assert bundle["link"][0]["url"].startswith(f"{client.base_url}/Patient/{mine}/MedicationRequest")


def test_compartment_search_of_the_patient_itself(client, unique):
    mine = client.create(patient(unique))["id"]
    assert ids(client.get(f"Patient/{mine}/Patient").json()) == [mine]


def test_search_across_types(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    diagnosis = client.create(condition(subject))["id"]
    bundle = client.get(
        client.base_url, params={"_type": "MedicationRequest,Condition", "_id": f"{request},{diagnosis},{subject}"}
    ).json()
    assert sorted(ids(bundle)) == sorted([request, diagnosis])


def test_search_across_types_rejects_parameters_not_common_to_all(client):
    response = client.get(
        client.base_url,
        params={"_type": "MedicationRequest,Condition", "intent": "order"},
        headers={"Prefer": "handling=strict"},
    )
    assert response.status_code == 400


def test_post_search_with_form_body(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    response = client.post("MedicationRequest/_search", data={"patient": subject, "status": "active"})
    assert ids(response.json()) == [request]


def test_us_core_medication_request_search_with_comma_status_and_include(client, unique):
    subject = client.create(patient(unique))["id"]
    active = client.create(medication_request(subject, status="active"))["id"]
    hold = client.create(medication_request(subject, status="on-hold"))["id"]
    client.create(medication_request(subject, status="stopped"))
    client.create(medication_request(subject, status="active", intent="plan"))
    assert found(client, "MedicationRequest", patient=subject, intent="order", status="active,on-hold") == sorted(
        [active, hold]
    )
    assert found(
        client, "MedicationRequest", patient=subject, intent="order", authoredon="ge2026-01-01", status="active"
    ) == [active]


def test_us_core_patient_searches(client, unique):
    family = f"Us{unique[:10]}"
    created = client.create(patient(unique, family=family, name=[{"family": family, "given": ["Ann"]}]))["id"]
    assert found(client, "Patient", name=family, birthdate="1980-04-02") == [created]
    assert found(client, "Patient", name=family, gender="female") == [created]
    assert found(client, "Patient", name=family, gender="male") == []


def test_us_core_condition_searches(client, unique):
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
    assert found(client, "Condition", patient=subject, category="problem-list-item") == [problem]
    assert found(client, "Condition", patient=subject, **{"clinical-status": "active"}) == [problem]
