"""Date search (R4 search.html#date): precision as a range, prefixes comparing ranges, Periods."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import medication_request, medication_statement, patient


def test_birthdate_year_matches_any_day_of_that_year(client, unique):
    a = client.create(patient(unique, birthDate="1980-04-02"))["id"]
    client.create(patient(unique, birthDate="1981-01-01"))
    assert found(client, "Patient", identifier=unique, birthdate="1980") == [a]
    assert found(client, "Patient", identifier=unique, birthdate="1980-04") == [a]
    assert found(client, "Patient", identifier=unique, birthdate="1980-04-02") == [a]
    assert found(client, "Patient", identifier=unique, birthdate="1980-04-03") == []


def test_prefixes_compare_ranges(client, unique):
    early = client.create(patient(unique, birthDate="1970-06-15"))["id"]
    late = client.create(patient(unique, birthDate="1990-06-15"))["id"]
    q = {"identifier": unique}
    assert found(client, "Patient", **q, birthdate="gt1980") == [late]
    assert found(client, "Patient", **q, birthdate="lt1980") == [early]
    assert found(client, "Patient", **q, birthdate="ge1990-06-15") == [late]
    assert found(client, "Patient", **q, birthdate="le1970-06-15") == [early]
    assert found(client, "Patient", **q, birthdate="ne1970") == [late]
    assert found(client, "Patient", **q, birthdate="sa1980") == [late]
    assert found(client, "Patient", **q, birthdate="eb1980") == [early]
    assert found(client, "Patient", **q, birthdate="ap1990-06-14") == [late]


def test_repeated_date_parameters_make_a_range(client, unique):
    subject = client.create(patient(unique))["id"]
    june = client.create(medication_request(subject, authoredOn="2026-06-10"))["id"]
    client.create(medication_request(subject, authoredOn="2026-08-01"))
    assert found(client, "MedicationRequest", patient=subject, authoredon=["ge2026-06-01", "lt2026-07-01"]) == [june]


def test_period_with_open_end_is_unbounded(client, unique):
    subject = client.create(patient(unique))["id"]
    ongoing = client.create(medication_statement(subject, effectivePeriod={"start": "2025-01-01"}))["id"]
    finished = client.create(
        medication_statement(subject, effectivePeriod={"start": "2024-01-01", "end": "2024-03-01"})
    )["id"]
    assert found(client, "MedicationStatement", patient=subject, effective="gt2030") == [ongoing]
    assert found(client, "MedicationStatement", patient=subject, effective="2024-02") == []  # overlaps only
    assert found(client, "MedicationStatement", patient=subject, effective="2024") == [finished]
    assert found(client, "MedicationStatement", patient=subject, effective="lt2024-06") == [finished]


def test_timezones_are_normalized(client, unique):
    subject = client.create(patient(unique))["id"]
    request = client.create(medication_request(subject, authoredOn="2026-06-10T23:30:00-05:00"))["id"]
    assert found(client, "MedicationRequest", patient=subject, authoredon="2026-06-11") == [request]
    assert found(client, "MedicationRequest", patient=subject, authoredon="ge2026-06-11T04:30:00Z") == [request]
    assert found(client, "MedicationRequest", patient=subject, authoredon="lt2026-06-11T04:30:00Z") == []


def test_invalid_date_returns_400_naming_the_parameter(client):
    response = client.get("Patient", params={"birthdate": "ge19800"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["location"] == ["http.birthdate"]
    assert "expression" not in response.json()["issue"][0]
