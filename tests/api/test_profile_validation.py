"""Profiles checked on every way in (create, update, patch, transaction entry, import line): a write that
fails validation stores nothing; unknown profiles warn, or fail under Prefer: handling=strict;
FHIR_REQUIRED_PROFILES applies a profile to every write of a type; $validate with a profile."""

from __future__ import annotations

import dataclasses
import json

import orjson
import pytest

from tests.conftest import FhirClient, LiveServer
from tests.factories import MRN, patient
from tests.test_cli import run_cli

US_CORE_PATIENT = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"


def us_core_patient(mrn: str, **fields) -> dict:
    return patient(mrn, meta={"profile": [US_CORE_PATIENT]}, **fields)


def failing(mrn: str) -> dict:
    """Claims US Core but has no gender (us-core-patient: gender 1..1)."""
    return {k: v for k, v in us_core_patient(mrn).items() if k != "gender"}


def _total(client, mrn: str) -> int:
    return client.get("Patient", params={"identifier": f"{MRN}|{mrn}"}).json()["total"]


def _expressions(response) -> list[str]:
    return [
        e for issue in response.json()["issue"] if issue["severity"] == "error" for e in issue.get("expression", [])
    ]


def test_create_failing_the_claimed_profile_is_422_and_stores_nothing(client, unique):
    response = client.post("Patient", json=failing(unique))
    assert response.status_code == 422, response.text
    assert _expressions(response) == ["Patient.gender"]
    assert _total(client, unique) == 0
    assert client.post("Patient", json=us_core_patient(unique)).status_code == 201


def test_update_failing_the_profile_keeps_the_stored_version(client, unique):
    stored = client.create(us_core_patient(unique))
    response = client.put(f"Patient/{stored['id']}", json={**failing(unique), "id": stored["id"]})
    assert response.status_code == 422
    assert client.get(f"Patient/{stored['id']}").json()["meta"]["versionId"] == "1"


def test_patch_failing_the_profile_keeps_the_stored_version(client, unique):
    stored = client.create(us_core_patient(unique))
    response = client.patch(
        f"Patient/{stored['id']}",
        data=json.dumps([{"op": "remove", "path": "/gender"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 422
    current = client.get(f"Patient/{stored['id']}").json()
    assert current["meta"]["versionId"] == "1" and current["gender"] == "female"


def test_transaction_entry_failing_the_profile_stores_nothing(client, unique):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:8b0d1c4e-0000-4000-8000-000000000001",
                "resource": us_core_patient(f"{unique}-ok"),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:8b0d1c4e-0000-4000-8000-000000000002",
                "resource": failing(unique),
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 422, response.text
    assert _total(client, unique) == 0 and _total(client, f"{unique}-ok") == 0


def test_import_line_failing_the_profile_is_not_stored(tmp_path, database_url, client, unique):
    path = tmp_path / "patients.ndjson"
    path.write_bytes(orjson.dumps(us_core_patient(f"{unique}-ok")) + b"\n" + orjson.dumps(failing(unique)) + b"\n")
    result = run_cli("import", str(path), env={"DATABASE_URL": database_url, "FHIR_LOG_LEVEL": "WARNING"}, timeout=120)
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and summary["stored"] == 1
    assert [f["line"] for f in summary["failures"]] == [2]
    assert _total(client, unique) == 0 and _total(client, f"{unique}-ok") == 1


def test_unknown_profile_is_accepted_but_refused_under_handling_strict(client, unique):
    unknown = patient(unique, meta={"profile": ["http://example.org/StructureDefinition/unknown"]})
    strict = client.post("Patient", json=unknown, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 422
    assert strict.json()["issue"][0]["code"] == "not-supported"
    assert client.post("Patient", json=unknown).status_code == 201


def test_invariant_failure_names_the_constraint_key(client, unique):
    response = client.post("Patient", json=patient(unique, contact=[{"gender": "female"}]))
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert (issue["code"], issue["expression"], issue["details"]["text"]) == (
        "invariant",
        ["Patient.contact[0]"],
        "pat-1",
    )


def test_validate_with_a_profile_parameter_lists_every_issue(client, unique):
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": patient(unique, identifier=None, gender=None, name=[{"text": "x"}])},
            {"name": "profile", "valueCanonical": US_CORE_PATIENT},
        ],
    }
    body["parameter"][0]["resource"] = {k: v for k, v in body["parameter"][0]["resource"].items() if v is not None}
    response = client.post("Patient/$validate", json=body)
    assert response.status_code == 200
    found = {
        (i["expression"][0], i.get("details", {}).get("text"))
        for i in response.json()["issue"]
        if i["severity"] == "error"
    }
    assert found == {("Patient.identifier", None), ("Patient.gender", None), ("Patient.name[0]", "us-core-6")}


def test_validate_an_unknown_profile_is_an_error_issue(client, unique):
    response = client.post("Patient/$validate", params={"profile": "http://example.org/x"}, json=patient(unique))
    assert response.status_code == 200
    assert response.json()["issue"][0]["code"] == "not-supported"


def test_instance_validate_without_a_body_checks_the_stored_resource(client, unique):
    stored = client.create(patient(unique))
    response = client.post(f"Patient/{stored['id']}/$validate", params={"profile": US_CORE_PATIENT})
    assert response.status_code == 200
    assert {i["severity"] for i in response.json()["issue"]} == {"information"}


@pytest.fixture(scope="module")
def requiring_server(settings):
    server = LiveServer(dataclasses.replace(settings, required_profiles=(("Patient", "us-core-patient"),)))
    yield server
    server.stop()


def test_required_profiles_check_every_write_of_the_type(requiring_server, unique):
    with FhirClient(requiring_server.base_url, requiring_server.token()) as client:
        plain = {k: v for k, v in patient(unique).items() if k != "gender"}  # claims nothing
        response = client.post("Patient", json=plain)
        assert response.status_code == 422
        assert _expressions(response) == ["Patient.gender"]
        assert client.post("Patient", json=patient(unique)).status_code == 201
