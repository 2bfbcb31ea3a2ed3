"""Practitioner and PractitionerRole as stored, validated, searchable types (R4 practitioner.html,
practitionerrole.html): a Practitioner user's fhirUser resolves to a record."""

from __future__ import annotations

NPI = "http://hl7.org/fhir/sid/us-npi"


def practitioner(unique: str, **fields) -> dict:
    return {
        "resourceType": "Practitioner",
        "active": True,
        "identifier": [{"system": NPI, "value": unique[:10]}],
        "name": [{"family": f"Lovelace{unique[:6]}", "given": ["Ada"], "prefix": ["Dr"]}],
        **fields,
    }


def _ids(bundle: dict) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle.get("entry", [])}


def test_practitioner_is_created_read_and_searched_by_name_identifier_and_active(client, unique):
    created = client.create(practitioner(unique))
    assert client.get(f"Practitioner/{created['id']}").json()["name"][0]["family"] == f"Lovelace{unique[:6]}"
    for params in (
        {"name": f"lovelace{unique[:6]}"},
        {"family": f"Lovelace{unique[:6]}"},
        {"identifier": f"{NPI}|{unique[:10]}"},
        {"identifier": f"{NPI}|{unique[:10]}", "active": "true"},
    ):
        response = client.get("Practitioner", params=params)
        assert response.status_code == 200, response.text
        assert _ids(response.json()) == {created["id"]}, params
    inactive = client.get("Practitioner", params={"identifier": f"{NPI}|{unique[:10]}", "active": "false"})
    assert inactive.json()["total"] == 0


def test_invalid_practitioner_is_refused_with_the_elements_path(client, unique):
    response = client.post("Practitioner", json=practitioner(unique, gender="robot"))
    assert response.status_code == 422
    assert "Practitioner.gender" in str(response.json()["issue"])


def test_practitioner_role_is_searched_by_practitioner_organization_role_and_specialty(client, unique):
    doctor = client.create(practitioner(unique))
    role = client.create(
        {
            "resourceType": "PractitionerRole",
            "active": True,
            "practitioner": {"reference": f"Practitioner/{doctor['id']}"},
            "organization": {"reference": "Organization/clinic-1", "display": "Outpatient psychiatry"},
            "code": [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "2084P0800X"}]}],
            "specialty": [{"coding": [{"system": "http://snomed.info/sct", "code": "394587001"}]}],
            "identifier": [{"system": "urn:test:role", "value": unique}],
        }
    )
    for params in (
        {"practitioner": f"Practitioner/{doctor['id']}"},
        {"organization": "Organization/clinic-1"},
        {"role": "http://nucc.org/provider-taxonomy|2084P0800X"},
        {"specialty": "394587001"},
        {"practitioner.name": f"Lovelace{unique[:6]}"},
    ):
        found = client.get("PractitionerRole", params={**params, "identifier": f"urn:test:role|{unique}"})
        assert found.status_code == 200, found.text
        assert _ids(found.json()) == {role["id"]}, params
    included = client.get(
        "PractitionerRole",
        params={"identifier": f"urn:test:role|{unique}", "_include": "PractitionerRole:practitioner"},
    ).json()
    assert _ids(included) == {role["id"], doctor["id"]}


def test_practitioner_role_must_reference_an_existing_practitioner(client, unique):
    response = client.post(
        "PractitionerRole",
        json={"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/nobody-here"}},
    )
    assert response.status_code == 422


def test_capability_statement_lists_practitioner_and_practitioner_role(client):
    types = {r["type"] for r in client.get("metadata").json()["rest"][0]["resource"]}
    assert {"Practitioner", "PractitionerRole"} <= types
