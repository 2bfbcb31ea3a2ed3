"""Patient/{id}/$everything (R4 patient-operation-everything.html): the compartment, paged."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.factories import appointment, condition, medication_request, medication_statement, patient


def _chart(client, unique) -> tuple[dict, set[str]]:
    subject = client.create(patient(unique))
    ids = {f"Patient/{subject['id']}"}
    for resource in (
        medication_request(subject["id"]),
        medication_request(subject["id"]),
        condition(subject["id"]),
        medication_statement(subject["id"]),
        appointment(subject["id"]),
    ):
        created = client.create(resource)
        ids.add(f"{created['resourceType']}/{created['id']}")
    return subject, ids


def _ids(bundle: dict) -> set[str]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])}


def test_everything_returns_the_patient_and_its_compartment_only(client, unique):
    subject, ids = _chart(client, unique)
    other = client.create(patient(unique + "o"))
    client.create(medication_request(other["id"]))
    bundle = client.get(f"Patient/{subject['id']}/$everything").json()
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 6
    assert _ids(bundle) == ids


def test_everything_pages_with_count_and_next_links(client, unique):
    subject, ids = _chart(client, unique)
    seen, pages = set(), 0
    url = f"Patient/{subject['id']}/$everything?_count=2"
    while url:
        bundle = client.get(url).json()
        assert len(bundle.get("entry", [])) <= 2
        seen |= _ids(bundle)
        pages += 1
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert pages == 3
    assert seen == ids


def test_everything_filters_by_type(client, unique):
    subject, ids = _chart(client, unique)
    bundle = client.get(f"Patient/{subject['id']}/$everything", params={"_type": "MedicationRequest,Condition"}).json()
    assert {i.split("/")[0] for i in _ids(bundle)} == {"MedicationRequest", "Condition"}
    assert bundle["total"] == 3


def test_everything_filters_by_since(client, unique):
    subject, _ = _chart(client, unique)
    time.sleep(0.01)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = client.create(medication_request(subject["id"]))
    bundle = client.get(f"Patient/{subject['id']}/$everything", params={"_since": since}).json()
    assert _ids(bundle) == {f"MedicationRequest/{later['id']}"}


def test_everything_of_unknown_patient_returns_404(client):
    assert client.get("Patient/nobody/$everything").status_code == 404


def test_everything_with_unknown_type_returns_400(client, unique):
    subject = client.create(patient(unique))
    assert client.get(f"Patient/{subject['id']}/$everything", params={"_type": "Observation"}).status_code == 400


def test_everything_for_a_patient_token_only_reaches_its_own_patient(client, client_with, unique):
    subject, ids = _chart(client, unique)
    other = client.create(patient(unique + "o"))
    reader = client_with("patient/*.rs", patient=subject["id"])
    assert _ids(reader.get(f"Patient/{subject['id']}/$everything").json()) == ids
    assert reader.get(f"Patient/{other['id']}/$everything").status_code == 404


def test_everything_leaves_out_types_the_token_cannot_read(client, client_with, unique):
    subject, _ = _chart(client, unique)
    reader = client_with("system/Patient.rs system/Condition.rs")
    bundle = reader.get(f"Patient/{subject['id']}/$everything").json()
    assert {i.split("/")[0] for i in _ids(bundle)} == {"Patient", "Condition"}
