"""Status, cancel, expiry, files and who may see them (export.html#bulk-data-status-request,
#bulk-data-delete-request, #file-request); the export holds only what the token may see."""

from __future__ import annotations

import gzip
import time

import orjson
import requests
from fhir.resources.R4B import get_fhir_model_class

from tests.auth.smart_app import new_app
from tests.bulk.conftest import session
from tests.bulk.flow import ASYNC, download, export, kick_off, poll
from tests.factories import condition, group, medication_request, patient


def _ids(found: dict, resource_type: str) -> set[str]:
    return {r["id"] for r in found.get(resource_type, [])}


def test_delete_cancels_the_job_and_removes_its_files(client, since, export_dir):
    client.create(patient("cancel"))
    status_url = kick_off(client, f"{client.base_url}/$export", params={"_since": since}).headers["Content-Location"]
    manifest = poll(client, status_url).json()
    job_id = status_url.rpartition("/")[2]
    assert (export_dir / job_id).is_dir()
    response = client.delete(status_url)
    assert response.status_code == 202 and response.json()["resourceType"] == "OperationOutcome"
    assert client.get(status_url).status_code == 404
    assert client.get(manifest["output"][0]["url"]).status_code == 404
    assert not (export_dir / job_id).exists()
    assert client.delete(status_url).status_code == 404


def test_files_and_manifest_expire(server_with, export_dir):
    server = server_with(export_ttl_seconds=2)
    with session(server, "system/*.rs") as payer:
        response = kick_off(
            payer, f"{server.base_url}/$export", params={"_type": "Group", "_since": "2999-01-01T00:00:00Z"}
        )
        status_url = response.headers["Content-Location"]
        assert poll(payer, status_url).status_code == 200
        time.sleep(2.2)
        assert payer.get(status_url).status_code == 404
        job_id = status_url.rpartition("/")[2]
        deadline = time.monotonic() + 10
        while (export_dir / job_id).exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # the workers' sweep removes expired jobs' files
        assert not (export_dir / job_id).exists()


def test_a_client_over_its_running_job_limit_gets_429(server_with):
    server = server_with(export_max_jobs_per_client=1)
    with session(server, "system/*.rs", client_id="limited-client") as payer:
        refused = []
        for _ in range(5):
            first = kick_off(payer, f"{server.base_url}/$export", params={"_type": "Patient"})
            second = kick_off(payer, f"{server.base_url}/$export", params={"_type": "Patient"})
            poll(payer, first.headers["Content-Location"])
            if second.status_code == 429:
                refused.append(second)
                break
            poll(payer, second.headers["Content-Location"])  # the first had finished already: try again
        assert refused and refused[0].json()["issue"][0]["code"] == "throttled"
        assert refused[0].headers["Retry-After"].isdigit()


def test_kickoff_needs_a_token_and_refuses_patient_scopes(live_server, client_with):
    url = f"{live_server.base_url}/$export"
    assert requests.get(url, headers=ASYNC).status_code == 401
    member = client_with("system/*.cruds").create(patient("pt"))
    patient_client = client_with("patient/*.rs", patient=member["id"])
    for path in ("$export", "Patient/$export"):
        response = kick_off(patient_client, f"{live_server.base_url}/{path}")
        assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


def test_types_outside_the_scopes_are_403_when_asked_and_left_out_otherwise(client_with, live_server, since):
    admin = client_with("system/*.cruds")
    member = admin.create(patient("scoped"))
    admin.create(medication_request(member["id"]))
    narrow = client_with("system/Patient.rs")
    assert kick_off(narrow, f"{live_server.base_url}/$export", params={"_type": "MedicationRequest"}).status_code == 403
    _, found = export(narrow, f"{live_server.base_url}/$export", params={"_since": since})
    assert set(found) == {"Patient"}


def test_status_and_files_are_only_for_the_client_that_started_the_job(client_with, live_server, since):
    owner = session(live_server, "system/*.cruds", client_id="payer-a")
    owner.create(patient("owner"))
    kick = kick_off(owner, f"{live_server.base_url}/$export", params={"_since": since})
    status_url = kick.headers["Content-Location"]
    manifest = poll(owner, status_url).json()
    file_url = manifest["output"][0]["url"]
    other = session(live_server, "system/*.cruds", client_id="payer-b")
    assert other.get(status_url).status_code == 404  # another client's job is as good as unknown
    assert other.get(file_url).status_code == 404
    assert other.delete(status_url).status_code == 404
    assert owner.get(status_url).status_code == 200  # the owner's job was not cancelled by the other
    assert requests.get(file_url).status_code == 401
    assert requests.get(file_url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert owner.get(file_url).status_code == 200
    assert owner.get(status_url.rpartition("/")[0] + "/unknown-job").status_code == 404


def test_granular_scopes_filter_the_export(client_with, live_server, since):
    admin = client_with("system/*.cruds")
    member = admin.create(patient("granular"))
    active = admin.create(medication_request(member["id"], status="active"))
    admin.create(medication_request(member["id"], status="stopped"))
    narrow = client_with("system/MedicationRequest.rs?status=active")
    _, found = export(narrow, f"{live_server.base_url}/$export", params={"_since": since})
    assert set(found) == {"MedicationRequest"} and _ids(found, "MedicationRequest") == {active["id"]}


def test_an_assigned_practitioner_exports_only_their_patients(server_with, since):
    server = server_with(practitioner_access="assigned")
    with session(server, "system/*.cruds") as admin:
        for doctor in ("dr-export", "someone"):  # generalPractitioner targets must exist (a stored type)
            assert admin.put(f"Practitioner/{doctor}", json={"resourceType": "Practitioner", "id": doctor}).ok
        mine = admin.create(patient("mine", generalPractitioner=[{"reference": "Practitioner/dr-export"}]))
        other = admin.create(patient("other", generalPractitioner=[{"reference": "Practitioner/someone"}]))
        my_order = admin.create(medication_request(mine["id"]))
        admin.create(medication_request(other["id"]))
    with session(server, "user/*.rs", fhir_user="Practitioner/dr-export") as practitioner:
        _, found = export(practitioner, f"{server.base_url}/Patient/$export", params={"_since": since})
    assert _ids(found, "Patient") == {mine["id"]} and _ids(found, "MedicationRequest") == {my_order["id"]}


def test_files_split_at_the_configured_size_and_download_gzipped(server_with, since):
    server = server_with(export_file_resources=2)
    with session(server, "system/*.cruds") as payer:
        for i in range(5):
            payer.create(patient(f"split-{i}"))
        manifest, found = export(payer, f"{server.base_url}/$export", params={"_since": since, "_type": "Patient"})
        assert [o["count"] for o in manifest["output"]] == [2, 2, 1] and len(found["Patient"]) == 5
        raw = payer.get(manifest["output"][0]["url"], headers={"Accept-Encoding": "gzip"}, stream=True)
        assert raw.headers["Content-Encoding"] == "gzip"
        body = raw.raw.read(decode_content=False)
        assert body[:2] == b"\x1f\x8b" and len(gzip.decompress(body).splitlines()) == 2


def test_ndjson_lines_are_the_stored_json_and_validate_as_r4(client, since):
    member = client.create(patient("valid"))
    client.create(medication_request(member["id"]))
    client.create(condition(member["id"]))
    client.create(group([member["id"]], identifier="valid"))
    manifest, _ = export(client, f"{client.base_url}/$export", params={"_since": since})
    assert {o["type"] for o in manifest["output"]} == {"Patient", "MedicationRequest", "Condition", "Group"}
    for item in manifest["output"]:
        for line in client.get(item["url"]).content.splitlines():
            resource = orjson.loads(line)
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            stored = client.get(f"{resource['resourceType']}/{resource['id']}").content
            assert line == stored  # byte for byte: no re-serialization


def test_a_payer_backend_service_exports_its_member_roster(live_server):
    """The payer's nightly job: backend-services token, Group kick-off, poll with Retry-After, download all."""
    with session(live_server, "system/*.cruds") as admin:
        members = [admin.create(patient(f"payer-{i}")) for i in range(3)]
        for member in members:
            admin.create(medication_request(member["id"]))
        roster = admin.create(group([m["id"] for m in members], identifier="payer-roster"))
    app = new_app(
        live_server,
        "system/Group.rs system/Patient.rs system/MedicationRequest.rs",
        public=False,
        key="RS384",
        redirect=False,
    )
    token = requests.post(
        app.token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "system/Group.rs system/Patient.rs system/MedicationRequest.rs",
            **app.assertion(),
        },
    ).json()["access_token"]
    payer = requests.Session()
    payer.headers["Authorization"] = f"Bearer {token}"
    kick = payer.get(
        f"{live_server.base_url}/Group/{roster['id']}/$export",
        params={"_type": "Patient,MedicationRequest"},
        headers=ASYNC,
    )
    assert kick.status_code == 202
    status_url, waited = kick.headers["Content-Location"], 0
    while (status := payer.get(status_url)).status_code == 202:
        delay = int(status.headers["Retry-After"])
        assert 1 <= delay <= 120 and waited < 60
        time.sleep(delay)
        waited += delay
    assert status.status_code == 200
    found = download(payer, status.json())
    assert _ids(found, "Patient") == {m["id"] for m in members}
    assert {r["subject"]["reference"] for r in found["MedicationRequest"]} == {f"Patient/{m['id']}" for m in members}
