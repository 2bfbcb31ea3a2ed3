"""Reference search (R4 search.html#reference): id, Type/id, absolute URL, :[type], :identifier."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import appointment, condition, medication_request, patient


def test_reference_forms(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject))["id"]
    for value in (subject, f"Patient/{subject}", f"{client.base_url}/Patient/{subject}"):
        assert found(client, "MedicationRequest", subject=value) == [request]
    assert found(client, "MedicationRequest", **{"subject:Patient": subject}) == [request]
    assert found(client, "MedicationRequest", **{"subject:Group": subject}) == []


def test_external_absolute_reference_is_matched_by_url(client, unique):
    url = f"https://other.example/fhir/Practitioner/{unique}"
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject, requester={"reference": url}))["id"]
    assert found(client, "MedicationRequest", requester=url) == [request]
    assert found(client, "MedicationRequest", requester=unique) == []


def test_identifier_modifier_matches_logical_references(client, unique):
    subject = client.create(patient(unique))["id"]
    npi = {"system": "http://hl7.org/fhir/sid/us-npi", "value": unique}
    request = client.create(medication_request(subject, requester={"identifier": npi}))["id"]
    assert found(client, "MedicationRequest", **{"requester:identifier": f"{npi['system']}|{unique}"}) == [request]


def test_appointment_actor_and_patient(client, unique):
    subject = client.create(patient(unique))["id"]
    booked = client.create(appointment(subject))["id"]
    assert found(client, "Appointment", actor=f"Patient/{subject}") == [booked]
    assert found(client, "Appointment", patient=subject) == [booked]


def test_condition_patient_and_missing(client, unique):
    subject = client.create(patient(unique))["id"]
    recorded = client.create(condition(subject, encounter={"reference": f"https://ehr.example/Encounter/{unique}"}))[
        "id"
    ]
    plain = client.create(condition(subject))["id"]
    assert found(client, "Condition", patient=subject, **{"encounter:missing": "true"}) == [plain]
    assert found(client, "Condition", patient=subject, **{"encounter:missing": "false"}) == [recorded]


def test_unknown_type_modifier_returns_400(client):
    assert client.get("MedicationRequest", params={"subject:Observation": "1"}).status_code == 400
