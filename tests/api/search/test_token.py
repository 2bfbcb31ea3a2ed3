"""Token search (R4 search.html#token): code, system|code, |code, system|; :not, :text, :of-type."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import RXNORM, condition, medication_request, patient

PROBLEM = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]
}


def test_code_with_system_and_without(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    assert found(client, "MedicationRequest", subject=subject, code=f"{RXNORM}|312938") == [request]
    assert found(client, "MedicationRequest", subject=subject, code="312938") == [request]
    assert found(client, "MedicationRequest", subject=subject, code="http://other|312938") == []
    assert found(client, "MedicationRequest", subject=subject, code=f"{RXNORM}|") == [request]


def test_text_modifier_searches_display_and_text(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    assert found(client, "MedicationRequest", subject=subject, **{"code:text": "SERTRALINE 50"}) == [request]
    assert found(client, "MedicationRequest", subject=subject, **{"code:text": "fluoxetine"}) == []


def test_of_type_modifier_matches_identifier_type_and_value(client, unique):
    mr = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
    created = client.create(
        patient(unique, identifier=[{"type": {"coding": [mr]}, "system": "http://h", "value": unique}])
    )
    query = f"{mr['system']}|MR|{unique}"
    assert found(client, "Patient", **{"identifier:of-type": query}) == [created["id"]]
    assert found(client, "Patient", **{"identifier:of-type": f"{mr['system']}|DL|{unique}"}) == []


def test_boolean_and_code_tokens(client, unique):
    active = client.create(patient(unique, active=True))["id"]
    inactive = client.create(patient(unique, active=False))["id"]
    assert found(client, "Patient", identifier=unique, active="true") == [active]
    assert found(client, "Patient", identifier=unique, active="false") == [inactive]
    assert found(client, "Patient", identifier=unique, gender="female") == sorted([active, inactive])


def test_codeable_concept_category_and_comma_or(client, unique):
    subject = client.create(patient(unique))["id"]
    problem = client.create(condition(subject, category=[PROBLEM]))["id"]
    diagnosis = client.create(
        condition(
            subject,
            category=[
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "encounter-diagnosis",
                        }
                    ]
                }
            ],
        )
    )["id"]
    assert found(client, "Condition", patient=subject, category="problem-list-item") == [problem]
    assert found(client, "Condition", patient=subject, category="problem-list-item,encounter-diagnosis") == sorted(
        [problem, diagnosis]
    )


def test_not_modifier_includes_resources_without_the_element(client, unique):
    subject = client.create(patient(unique))["id"]
    with_category = client.create(condition(subject, category=[PROBLEM]))["id"]
    without = client.create(condition(subject))["id"]
    assert found(client, "Condition", patient=subject, **{"category:not": "problem-list-item"}) == [without]
    assert with_category not in found(client, "Condition", patient=subject, **{"category:not": "problem-list-item"})


def test_telecom_tokens(client, unique):
    phone = f"555-{unique[:6]}"
    created = client.create(patient(unique, telecom=[{"system": "phone", "value": phone}]))["id"]
    assert found(client, "Patient", phone=phone) == [created]
    assert found(client, "Patient", email=phone) == []


def test_tag_and_security_and_profile(client, unique):
    meta = {
        "tag": [{"system": "http://example.org/tags", "code": unique}],
        "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
    }
    created = client.create(patient(unique, meta=meta))["id"]
    assert found(client, "Patient", _tag=f"http://example.org/tags|{unique}") == [created]
    assert found(
        client, "Patient", identifier=unique, _profile="http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
    ) == [created]


def test_unsupported_token_modifier_returns_400(client):
    response = client.get("Patient", params={"gender:below": "f"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["location"] == ["http.gender:below"]
