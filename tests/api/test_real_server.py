"""End to end: the production server (`fhir-server serve`, granian, 2 workers) as a subprocess, a token minted
by `fhir-server token`, driven by a real FHIR client library (fhirpy) through create, read, update, search and
delete of a Patient and a psychiatric MedicationRequest.
"""

from __future__ import annotations

import json
import time
import uuid

import psutil
import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from tests import factories
from tests.server_process import STOP_TIMEOUT, ServerProcess, mint_token, start_server


@pytest.fixture(scope="module")
def server(database_url):
    server = start_server(database_url)
    try:
        yield server
    finally:
        server.terminate()
        server.kill_everything()


@pytest.fixture(scope="module")
def token(server) -> str:
    return mint_token(server, "system/*.cruds")


@pytest.fixture
def fhir(server, token) -> SyncFHIRClient:
    return SyncFHIRClient(server.base_url, authorization=f"Bearer {token}", requests_config={"timeout": 15})


def raw_get(server: ServerProcess, token: str, path: str) -> requests.Response:
    return requests.get(
        f"{server.base_url}/{path}",
        timeout=15,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
    )


def assert_deleted(fhir: SyncFHIRClient, server: ServerProcess, token: str, resource_type: str, id: str) -> None:
    """A read after delete: 410 Gone with an OperationOutcome; fhirpy maps 404 and 410 alike to ResourceNotFound."""
    with pytest.raises(ResourceNotFound) as raised:
        fhir.get(resource_type, id)
    outcome = json.loads(str(raised.value))  # fhirpy puts the response body in the exception
    assert outcome["resourceType"] == "OperationOutcome"
    assert [issue["code"] for issue in outcome["issue"]] == ["deleted"]
    response = raw_get(server, token, f"{resource_type}/{id}")
    assert response.status_code == 410, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


def test_the_server_is_granian_and_ready(server, token):
    ready = requests.get(f"{server.root_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert "granian" in ready.headers.get("Server", "").lower(), ready.headers
    assert requests.get(f"{server.root_url}/healthz", timeout=5).status_code == 200

    metadata = requests.get(f"{server.base_url}/metadata", timeout=15, headers={"Accept": "application/fhir+json"})
    assert metadata.status_code == 200
    assert metadata.json()["resourceType"] == "CapabilityStatement"
    assert "granian" in metadata.headers.get("Server", "").lower()

    unauthenticated = requests.get(f"{server.base_url}/Patient", timeout=15)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    assert raw_get(server, token, "Patient?_count=1").status_code == 200


def test_patient_create_read_update_search_delete_with_fhirpy(fhir, server, token):
    mrn = uuid.uuid4().hex
    fields = factories.patient(mrn=mrn, family="Rivera")
    fields.pop("resourceType")
    patient = fhir.resource("Patient", **fields)
    patient.save()
    assert patient.id
    assert patient["meta"]["versionId"] == "1"
    patient_id = patient.id

    read = fhir.get("Patient", patient_id)
    assert read["id"] == patient_id
    assert read["meta"]["versionId"] == "1"
    assert read["name"][0]["family"] == "Rivera"
    assert read["identifier"] == [{"system": factories.MRN, "value": mrn}]

    patient["name"] = [{"family": "Rivera-Lopez", "given": ["Jane"]}]
    patient.save()
    assert patient.id == patient_id
    assert patient["meta"]["versionId"] == "2"
    read = fhir.get("Patient", patient_id)
    assert read["meta"]["versionId"] == "2"
    assert read["name"][0]["family"] == "Rivera-Lopez"

    found = fhir.resources("Patient").search(identifier=f"{factories.MRN}|{mrn}").fetch_all()
    assert [p.id for p in found] == [patient_id]
    assert found[0]["meta"]["versionId"] == "2"
    assert fhir.resources("Patient").search(identifier=f"{factories.MRN}|{uuid.uuid4().hex}").fetch_all() == []

    patient.delete()
    assert_deleted(fhir, server, token, "Patient", patient_id)
    assert fhir.resources("Patient").search(identifier=f"{factories.MRN}|{mrn}").fetch_all() == []


def test_medication_request_create_read_update_search_delete_with_fhirpy(fhir, server, token):
    patient_fields = factories.patient(mrn=uuid.uuid4().hex)
    patient_fields.pop("resourceType")
    patient = fhir.resource("Patient", **patient_fields)
    patient.save()

    fields = factories.medication_request(patient.id)
    fields.pop("resourceType")
    order = fhir.resource("MedicationRequest", **fields)
    order.save()
    assert order.id and order.id != patient.id
    assert order["meta"]["versionId"] == "1"
    order_id = order.id

    read = fhir.get("MedicationRequest", order_id)
    assert read["id"] == order_id
    assert read["status"] == "active"
    assert read["subject"]["reference"] == f"Patient/{patient.id}"
    assert read["medicationCodeableConcept"]["coding"][0]["code"] == "312938"  # sertraline 50 MG Oral Tablet

    order["status"] = "on-hold"
    order.save()
    assert order.id == order_id
    assert order["meta"]["versionId"] == "2"
    assert fhir.get("MedicationRequest", order_id)["status"] == "on-hold"

    by_patient = fhir.resources("MedicationRequest").search(patient=f"Patient/{patient.id}").fetch_all()
    assert [r.id for r in by_patient] == [order_id]
    assert by_patient[0]["status"] == "on-hold"
    assert [r.id for r in fhir.resources("MedicationRequest").search(patient=patient.id).fetch_all()] == [order_id]

    order.delete()
    assert_deleted(fhir, server, token, "MedicationRequest", order_id)
    assert fhir.resources("MedicationRequest").search(patient=f"Patient/{patient.id}").fetch_all() == []

    patient.delete()
    assert_deleted(fhir, server, token, "Patient", patient.id)


def test_sigterm_stops_the_server_and_its_workers_with_exit_code_0(database_url):
    server = start_server(database_url)
    try:
        master = psutil.Process(server.process.pid)
        workers = master.children(recursive=True)
        assert len(workers) >= 2, [w.cmdline() for w in workers]
        started = time.monotonic()
        code = server.terminate(STOP_TIMEOUT)
        elapsed = time.monotonic() - started
        assert code is not None, f"still running {STOP_TIMEOUT} s after SIGTERM\n{server.output()}"
        assert code == 0, f"exit code {code}\n{server.output()}"
        assert elapsed < STOP_TIMEOUT
        gone, alive = psutil.wait_procs(workers, timeout=5)
        assert alive == [], f"workers left running: {alive}"
    finally:
        server.terminate(5)
        server.kill_everything()
