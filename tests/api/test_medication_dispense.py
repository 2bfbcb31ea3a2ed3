"""MedicationDispense: a stored, validated, searchable type (pharmacy fills for adherence)."""

from __future__ import annotations

from tests.factories import RXNORM, medication_dispense, medication_request, patient


def test_dispense_is_stored_and_found_by_patient_status_code_date_and_prescription(client, unique):
    pid = client.create(patient(unique))["id"]
    order = client.create(medication_request(pid))
    dispense = client.create(
        medication_dispense(
            pid,
            when="2026-03-04T10:00:00Z",
            authorizingPrescription=[{"reference": f"MedicationRequest/{order['id']}"}],
            performer=[{"actor": {"display": "Main St Pharmacy"}}],
        )
    )
    client.create(medication_dispense(pid, code="200371", when="2026-05-01", status="cancelled"))
    assert client.get(f"MedicationDispense/{dispense['id']}").json()["whenHandedOver"] == "2026-03-04T10:00:00Z"

    def ids(query):
        response = client.get(f"MedicationDispense?patient={pid}&{query}")
        assert response.status_code == 200, response.text
        return [e["resource"]["id"] for e in response.json().get("entry", [])]

    assert ids("status=completed") == [dispense["id"]]
    assert ids(f"code={RXNORM}|312941") == [dispense["id"]]
    assert ids("whenhandedover=lt2026-04-01") == [dispense["id"]]
    assert ids(f"prescription=MedicationRequest/{order['id']}") == [dispense["id"]]
    assert len(ids("")) == 2


def test_dispense_with_an_unknown_status_is_rejected_with_the_element_path(client, unique):
    pid = client.create(patient(unique))["id"]
    response = client.post("MedicationDispense", json=medication_dispense(pid, status="handed-out"))
    assert response.status_code in (400, 422)
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "MedicationDispense.status" in str(outcome)


def test_patient_token_sees_only_its_own_dispenses(client, client_with, unique):
    mine = client.create(patient(unique))["id"]
    other = client.create(patient(unique + "x"))["id"]
    client.create(medication_dispense(mine))
    theirs = client.create(medication_dispense(other))
    reader = client_with("patient/*.rs", patient=mine)
    assert reader.get(f"MedicationDispense/{theirs['id']}").status_code in (403, 404)
    bundle = reader.get("MedicationDispense").json()
    assert {e["resource"]["subject"]["reference"] for e in bundle.get("entry", [])} == {f"Patient/{mine}"}
