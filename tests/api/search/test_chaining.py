"""Chained parameters and reverse chaining with _has (R4 search.html#chaining, #has)."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import MRN, condition, medication_request, patient


def test_chain_through_subject_to_patient_name(client, unique):
    family = f"Ch{unique[:10]}"
    subject = client.create(patient(unique, family=family, name=[{"family": family}]))["id"]
    other = client.create(patient(unique + "x"))["id"]
    wanted = client.create(medication_request(subject))["id"]
    client.create(medication_request(other))
    assert found(client, "MedicationRequest", **{"subject:Patient.name": family}) == [wanted]
    assert found(client, "MedicationRequest", **{"patient.family": family.lower()}) == [wanted]


def test_chain_by_patient_identifier(client, unique):
    subject = client.create(patient(unique))["id"]
    wanted = client.create(condition(subject))["id"]
    assert found(client, "Condition", **{"patient.identifier": f"{MRN}|{unique}"}) == [wanted]


def test_two_level_chain(client, unique):
    linked = client.create(patient(unique + "l", family=f"Lk{unique[:8]}", name=[{"family": f"Lk{unique[:8]}"}]))["id"]
    subject = client.create(patient(unique, link=[{"other": {"reference": f"Patient/{linked}"}, "type": "seealso"}]))[
        "id"
    ]
    wanted = client.create(medication_request(subject))["id"]
    assert found(client, "MedicationRequest", **{"patient.link:Patient.family": f"Lk{unique[:8]}"}) == [wanted]


def test_has_finds_patients_by_their_medication_requests(client, unique):
    on_drug = client.create(patient(unique))["id"]
    stopped = client.create(patient(unique))["id"]
    client.create(medication_request(on_drug, status="active"))
    client.create(medication_request(stopped, status="stopped"))
    assert found(client, "Patient", identifier=unique, **{"_has:MedicationRequest:patient:status": "active"}) == [
        on_drug
    ]


def test_nested_has(client, unique):
    subject = client.create(patient(unique))["id"]
    linker = client.create(
        patient(unique + "k", link=[{"other": {"reference": f"Patient/{subject}"}, "type": "seealso"}])
    )["id"]
    client.create(medication_request(linker, status="on-hold"))
    name = "_has:Patient:link:_has:MedicationRequest:patient:status"
    assert found(client, "Patient", identifier=unique, **{name: "on-hold"}) == [subject]


def test_chain_on_non_reference_returns_400(client):
    assert client.get("MedicationRequest", params={"status.name": "x"}).status_code == 400


def test_malformed_has_returns_400(client):
    assert client.get("Patient", params={"_has:MedicationRequest:status": "active"}).status_code == 400
