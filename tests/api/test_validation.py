"""Every write is validated before anything is stored: 400 for what is not a resource of the type,
422 for an invalid one, with an OperationOutcome whose issues carry FHIRPath expressions."""

from __future__ import annotations

import pytest

from tests.factories import medication_request, patient


def _expressions(response) -> list[str]:
    return [e for issue in response.json()["issue"] for e in issue.get("expression", [])]


def test_unknown_element_returns_422_with_its_path(client, unique):
    response = client.post("Patient", json={**patient(unique), "favouriteColour": "blue"})
    assert response.status_code == 422
    assert "Patient.favouriteColour" in _expressions(response)


def test_wrong_type_returns_422(client, unique):
    response = client.post("Patient", json={**patient(unique), "active": "yes"})
    assert response.status_code == 422
    assert "Patient.active" in _expressions(response)


@pytest.mark.parametrize(
    "element, value, expression",
    [
        ("active", "true", "Patient.active"),
        ("multipleBirthInteger", "2", "Patient.multipleBirthInteger"),
        ("extension", [{"url": "http://example.org/x", "valueBoolean": "false"}], "Patient.extension[0].valueBoolean"),
        (
            "_gender",
            {"extension": [{"url": "http://example.org/x", "valueInteger": "3"}]},
            "Patient._gender.extension[0].valueInteger",
        ),
        ("contained", [{"resourceType": "Patient", "id": "c1", "active": "true"}], "Patient.contained[0].active"),
    ],
)
def test_primitive_in_the_wrong_json_type_returns_422_with_its_path(client, unique, element, value, expression):
    """R4 json.html: booleans and numbers are JSON booleans and numbers, although the models accept "true"."""
    response = client.post("Patient", json={**patient(unique), element: value})
    assert response.status_code == 422, response.text
    assert _expressions(response) == [expression]


def test_numbers_and_booleans_in_their_json_types_are_accepted(client, unique):
    resource = {
        **patient(unique),
        "multipleBirthInteger": 2,
        "active": False,
        "extension": [{"url": "http://example.org/x", "valueDecimal": 1.5}],
        "contained": [{"resourceType": "Patient", "id": "c1", "active": True}],
        "link": [{"other": {"reference": "#c1"}, "type": "seealso"}],
    }  # dom-3: a contained one is referenced
    assert client.post("Patient", json=resource).status_code == 201, client.post("Patient", json=resource).text


def test_bad_date_format_returns_422(client, unique):
    response = client.post("Patient", json={**patient(unique), "birthDate": "1980-13-45"})
    assert response.status_code == 422
    assert "Patient.birthDate" in _expressions(response)


def test_empty_string_in_array_reports_the_element_path(client, unique):
    resource = patient(unique)
    resource["name"] = [{"family": "Doe", "given": ["Jane", ""]}]
    response = client.post("Patient", json=resource)
    assert response.status_code == 422
    assert "Patient.name[0].given[1]" in _expressions(response)


@pytest.mark.parametrize("empty", [{}, [], ""])
def test_empty_values_are_rejected(client, unique, empty):
    response = client.post("Patient", json={**patient(unique), "telecom": empty})
    assert response.status_code == 422
    assert "Patient.telecom" in _expressions(response)


def test_null_value_is_rejected(client, unique):
    response = client.post("Patient", json={**patient(unique), "gender": None})
    assert response.status_code == 422


def test_missing_required_element_returns_422(client, unique):
    resource = medication_request(client.create(patient(unique))["id"])
    del resource["subject"]
    response = client.post("MedicationRequest", json=resource)
    assert response.status_code == 422
    assert "MedicationRequest.subject" in _expressions(response)


def test_both_choice_type_variants_are_rejected(client, unique):
    resource = {
        **medication_request(client.create(patient(unique))["id"]),
        "medicationReference": {"reference": "Medication/1"},
    }
    response = client.post("MedicationRequest", json=resource)
    assert response.status_code == 422


def test_code_outside_required_value_set_returns_422(client, unique):
    response = client.post("Patient", json={**patient(unique), "gender": "martian"})
    assert response.status_code == 422
    assert _expressions(response) == ["Patient.gender"]
    assert response.json()["issue"][0]["code"] == "code-invalid"


def test_medication_request_status_and_intent_are_checked(client, unique):
    subject_id = client.create(patient(unique))["id"]
    response = client.post("MedicationRequest", json=medication_request(subject_id, status="taken", intent="wish"))
    assert response.status_code == 422
    assert set(_expressions(response)) == {"MedicationRequest.status", "MedicationRequest.intent"}


def test_nested_datatype_binding_is_checked(client, unique):
    resource = {**patient(unique), "telecom": [{"system": "pigeon", "value": "123"}]}
    response = client.post("Patient", json=resource)
    assert response.status_code == 422
    assert _expressions(response) == ["Patient.telecom[0].system"]


def test_codeable_concept_binding_needs_a_coding_from_the_value_set(client, unique):
    from tests.factories import condition

    resource = condition(
        client.create(patient(unique))["id"],
        clinicalStatus={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "dormant"}]
        },
    )
    response = client.post("Condition", json=resource)
    assert response.status_code == 422
    assert _expressions(response) == ["Condition.clinicalStatus"]


def test_invalid_id_on_update_is_rejected(client, unique):
    response = client.put("Patient/bad_id!", json={**patient(unique), "id": "bad_id!"})
    assert response.status_code in (400, 422)
    assert response.json()["resourceType"] == "OperationOutcome"


def test_id_longer_than_64_characters_is_rejected(client, unique):
    long_id = "a" * 65
    response = client.put(f"Patient/{long_id}", json={**patient(unique), "id": long_id})
    assert response.status_code == 422
    assert _expressions(response) == ["Patient.id"]


def test_resource_type_different_from_url_returns_400(client, unique):
    response = client.post("Condition", json=patient(unique))
    assert response.status_code == 400
    # R4 operationoutcome.html: expression is FHIRPath into the content; resourceType is no element
    assert _expressions(response) == []
    assert "resourceType must be 'Condition'" in response.json()["issue"][0]["diagnostics"]


def test_unparseable_json_returns_400(client):
    response = client.post(
        "Patient", data=b'{"resourceType": "Patient",', headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_json_that_is_not_an_object_returns_400(client):
    response = client.post("Patient", json=["Patient"])
    assert response.status_code == 400


def test_string_over_one_megabyte_is_rejected(client, unique):
    response = client.post(
        "Patient",
        json={**patient(unique), "text": {"status": "generated", "div": "<div>" + "x" * (1024 * 1024) + "</div>"}},
    )
    assert response.status_code == 422
    assert "Patient.text.div" in _expressions(response)


def test_invalid_write_stores_nothing(client, unique):
    client.post("Patient", json={**patient(unique), "gender": "martian"})
    search = client.get("Patient", params={"identifier": f"http://hospital.example/mrn|{unique}"}).json()
    assert search["total"] == 0


def test_invalid_update_keeps_the_current_version(client, unique):
    created = client.create(patient(unique))
    response = client.put(f"Patient/{created['id']}", json={**created, "gender": "martian"})
    assert response.status_code == 422
    current = client.get(f"Patient/{created['id']}").json()
    assert current["meta"]["versionId"] == "1"
    assert current["gender"] == "female"
