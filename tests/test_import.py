"""`fhir-server import PATH...`: NDJSON and Bundles loaded through the fast path, every resource
validated; bad records are reported with file, line and issue and never stored; the rest is."""

from __future__ import annotations

import json
import uuid

import orjson

from tests.factories import MRN, medication_request, patient
from tests.test_cli import run_cli


def _import(database_url: str, *paths) -> tuple[int, dict, str]:
    result = run_cli(
        "import", *map(str, paths), env={"DATABASE_URL": database_url, "FHIR_LOG_LEVEL": "WARNING"}, timeout=120
    )
    return result.returncode, json.loads(result.stdout), result.stderr


def _ndjson(path, resources) -> None:
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in resources))


def test_import_of_ndjson_with_bad_lines_reports_them_and_stores_the_rest(tmp_path, database_url, client, unique):
    subject = {**patient(unique), "id": f"imp-{unique}"}
    lines = [subject] + [
        medication_request(subject["id"], identifier=[{"system": MRN, "value": f"{unique}-{i}"}]) for i in range(40)
    ]
    lines[5] = {**lines[5], "status": "taken"}  # line 6 (identifier -4): outside the required value set
    lines[10] = b'{"resourceType": "MedicationRequest", '  # line 11: not JSON
    lines[20] = medication_request("no-such-patient")  # line 21: dangling reference
    lines[30] = {"resourceType": "Observation", "status": "final"}  # line 31: a type not served
    path = tmp_path / "records.ndjson"
    _ndjson(path, lines)
    code, summary, stderr = _import(database_url, path)
    assert code == 1  # something failed
    assert summary["read"] == 41
    assert summary["stored"] == 37
    assert summary["failed"] == 4
    failures = {f["line"]: f for f in summary["failures"]}
    assert set(failures) == {6, 11, 21, 31}
    assert all(f["file"] == str(path) for f in failures.values())
    assert failures[6]["issues"][0]["expression"] == ["MedicationRequest.status"]
    assert failures[21]["issues"][0]["code"] == "not-found"
    assert "resources/s" in stderr
    assert client.get(f"Patient/imp-{unique}").status_code == 200
    found = client.get("MedicationRequest", params={"subject": f"Patient/imp-{unique}", "_count": 100}).json()
    assert found["total"] == 36  # 40 lines of MedicationRequest, 4 replaced by bad records
    assert client.get("MedicationRequest", params={"identifier": f"{MRN}|{unique}-4"}).json()["total"] == 0


def test_import_of_a_transaction_bundle_rewrites_urn_uuid_references(tmp_path, database_url, client, unique):
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "request": {"method": "POST", "url": "MedicationRequest"},
                "resource": medication_request("x", subject={"reference": patient_url}),
            },
            {"fullUrl": patient_url, "request": {"method": "POST", "url": "Patient"}, "resource": patient(unique)},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps(bundle))
    code, summary, _ = _import(database_url, path)
    assert code == 0, summary
    assert summary["stored"] == 2
    assert summary["by_type"] == {"MedicationRequest": 1, "Patient": 1}
    stored = client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["entry"][0]["resource"]
    prescriptions = client.get("MedicationRequest", params={"subject": f"Patient/{stored['id']}"}).json()
    assert prescriptions["total"] == 1


def test_import_keeps_ids_and_a_second_import_makes_new_versions(tmp_path, database_url, client, unique):
    path = tmp_path / "patients.ndjson"
    _ndjson(path, [{**patient(unique), "id": f"keep-{unique}"}])
    assert _import(database_url, path)[0] == 0
    _ndjson(path, [{**patient(unique, gender="male"), "id": f"keep-{unique}"}])
    code, summary, _ = _import(database_url, path)
    assert code == 0 and summary["stored"] == 1
    current = client.get(f"Patient/keep-{unique}").json()
    assert current["meta"]["versionId"] == "2"
    assert current["gender"] == "male"
    assert client.get(f"Patient/keep-{unique}/_history").json()["total"] == 2


def test_import_of_a_collection_bundle_with_an_invalid_entry(tmp_path, database_url, client, unique):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient(unique)}, {"resource": {**patient(unique + "x"), "gender": "martian"}}],
    }
    path = tmp_path / "collection.json"
    path.write_bytes(orjson.dumps(bundle))
    code, summary, _ = _import(database_url, path)
    assert code == 1
    assert summary["stored"] == 1
    assert summary["failures"] == [{"file": str(path), "entry": 1, "issues": summary["failures"][0]["issues"]}]
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}x"}).json()["total"] == 0


def test_import_of_a_missing_file_exits_non_zero(database_url, tmp_path):
    result = run_cli("import", str(tmp_path / "nope.ndjson"), env={"DATABASE_URL": database_url})
    assert result.returncode != 0


def test_import_stores_records_whose_references_come_later(tmp_path, database_url, client, unique):
    """MedicationRequests listed before their Patient (here: in an earlier file) wait for it;
    one whose Patient never comes still fails, with its line."""
    patient_id = f"late-{unique}"
    requests = tmp_path / "requests.ndjson"
    _ndjson(
        requests,
        [medication_request(patient_id, identifier=[{"system": MRN, "value": f"{unique}-{i}"}]) for i in range(3)]
        + [medication_request(f"never-{unique}")],
    )
    patients = tmp_path / "patients.ndjson"
    _ndjson(patients, [{**patient(unique), "id": patient_id}])
    code, summary, _ = _import(database_url, requests, patients)
    assert code == 1
    assert (summary["stored"], summary["failed"]) == (4, 1)
    assert [(f["file"], f["line"], f["issues"][0]["code"]) for f in summary["failures"]] == [
        (str(requests), 4, "not-found")
    ]
    found = client.get("MedicationRequest", params={"subject": f"Patient/{patient_id}"}).json()
    assert found["total"] == 3
