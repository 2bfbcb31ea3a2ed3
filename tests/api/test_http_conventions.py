"""HTTP conventions (R4 http.html): media types, errors as OperationOutcome, metadata, health."""

from __future__ import annotations

import requests

from server.interactions import read
from tests.conftest import FhirClient, LiveServer
from tests.factories import patient


def test_metadata_is_public_and_declares_fhir_4_0_1(live_server):
    response = requests.get(f"{live_server.base_url}/metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(types) >= {"Patient", "Condition", "MedicationRequest", "MedicationStatement", "Appointment", "Group"}


def test_metadata_lists_interactions_and_indexed_search_parameters(live_server):
    statement = requests.get(f"{live_server.base_url}/metadata").json()
    medication_request = next(r for r in statement["rest"][0]["resource"] if r["type"] == "MedicationRequest")
    interactions = {i["code"] for i in medication_request["interaction"]}
    assert {"read", "vread", "update", "delete", "create", "search-type", "history-instance", "patch"} <= interactions
    params = {p["name"]: p["type"] for p in medication_request["searchParam"]}
    assert params["patient"] == "reference"
    assert params["identifier"] == "token"
    assert params["_lastUpdated"] == "date"
    assert params["authoredon"] == "date"
    assert params["code"] == "token"


def test_json_format_variants_are_accepted(client, unique):
    created = client.create(patient(unique))
    for accept in ("application/json", "application/fhir+json", "*/*"):
        response = client.get(f"Patient/{created['id']}", headers={"Accept": accept})
        assert response.status_code == 200, accept
    assert client.get(f"Patient/{created['id']}", params={"_format": "json"}).status_code == 200
    assert (
        client.get(f"Patient/{created['id']}", headers={"Accept": "application/json"})
        .headers["Content-Type"]
        .startswith("application/json")
    )


def test_accept_with_charset_or_r4_fhir_version_is_served(client, unique):
    """R4 http.html#mime-type allows charset; #version-parameter: fhirVersion=4.0 is R4."""
    created = client.create(patient(unique))
    for accept in (
        "application/fhir+json; charset=utf-8",
        "application/fhir+json;charset=UTF-8",
        "application/json; charset=utf-8",
        "application/fhir+json; fhirVersion=4.0",
        "application/fhir+json; fhirVersion=4.0; q=0.8, application/xml; q=0.9",
    ):
        response = client.get(f"Patient/{created['id']}", headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.text)


def test_fhir_version_asked_for_is_sent_back_in_content_type(client, unique):
    created = client.create(patient(unique))
    response = client.get(f"Patient/{created['id']}", headers={"Accept": "application/fhir+json; fhirVersion=4.0"})
    assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8; fhirVersion=4.0"
    plain = client.get(f"Patient/{created['id']}", headers={"Accept": "application/fhir+json"})
    assert plain.headers["Content-Type"] == "application/fhir+json; charset=utf-8"


def test_accept_for_another_fhir_version_or_charset_returns_406(client, unique):
    created = client.create(patient(unique))
    for accept in (
        "application/fhir+json; fhirVersion=3.0",
        "application/fhir+json; fhirVersion=5.0",
        "application/fhir+json; charset=iso-8859-1",
        "application/fhir+json; q=0",
    ):
        response = client.get(f"Patient/{created['id']}", headers={"Accept": accept})
        assert response.status_code == 406, accept
        assert response.json()["resourceType"] == "OperationOutcome"


def test_accept_quality_picks_the_json_variant(client, unique):
    created = client.create(patient(unique))
    response = client.get(
        f"Patient/{created['id']}", headers={"Accept": "application/json;q=0.5, application/fhir+json;q=0.9"}
    )
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    response = client.get(
        f"Patient/{created['id']}", headers={"Accept": "application/json;q=0.9, application/fhir+json;q=0.5"}
    )
    assert response.headers["Content-Type"].startswith("application/json;")


def test_pretty_output_is_indented(client, unique):
    created = client.create(patient(unique))
    response = client.get(f"Patient/{created['id']}", params={"_pretty": "true"})
    assert response.text.startswith("{\n  ")


def test_xml_only_accept_returns_406(client, unique):
    created = client.create(patient(unique))
    response = client.get(f"Patient/{created['id']}", headers={"Accept": "application/fhir+xml"})
    assert response.status_code == 406
    assert response.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"Patient/{created['id']}", params={"_format": "xml"}).status_code == 406


def test_xml_body_returns_415(client):
    response = client.post(
        "Patient", data="<Patient xmlns='http://hl7.org/fhir'/>", headers={"Content-Type": "application/fhir+xml"}
    )
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unknown_resource_type_returns_404(client):
    response = client.get("Observation/1")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unsupported_interaction_returns_405(client, unique):
    created = client.create(patient(unique))
    response = client.post(f"Patient/{created['id']}", json=created)
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


def test_body_over_the_limit_returns_413(client, live_server):
    body = b'{"resourceType": "Patient", "text": "' + b"x" * (live_server.settings.max_body_bytes + 1) + b'"}'
    response = client.post("Patient", data=body, headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_health_and_readiness_are_public(live_server):
    assert requests.get(f"{live_server.root_url}/healthz").status_code == 200
    ready = requests.get(f"{live_server.root_url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_document_is_served(live_server):
    document = requests.get(f"{live_server.root_url}/openapi.json").json()
    assert document["info"]["title"] == "FHIR medication server"
    assert any(path.startswith("/fhir/") for path in document["paths"])
    assert requests.get(f"{live_server.root_url}/docs").status_code == 200


def test_errors_never_leak_a_stack_trace(client):
    response = client.get("Patient", params={"_lastUpdated": "gt" + "9" * 5000})
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_an_unexpected_exception_is_a_500_outcome_without_its_trace(settings, unique, monkeypatch, caplog):
    """A real bug in an interaction reaches the last error handler: the client sees a plain 500
    OperationOutcome, the log keeps the trace with the request id."""
    server = LiveServer(settings)
    try:
        with FhirClient(server.base_url, server.token("system/*.cruds")) as session:
            created = session.create(patient(unique))

            def broken(*args, **kwargs):
                raise ZeroDivisionError(f"secret-detail-{unique}")

            monkeypatch.setattr(read, "read", broken)
            response = session.get(f"Patient/{created['id']}", headers={"X-Request-ID": f"req-{unique}"})
    finally:
        server.stop()
    assert response.status_code == 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "exception"
    assert "Traceback" not in response.text and "ZeroDivisionError" not in response.text
    assert f"secret-detail-{unique}" not in response.text
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged and logged[-1].exc_info[0] is ZeroDivisionError


def test_every_response_carries_the_clients_request_id_or_a_new_one(client, live_server):
    given = client.get("metadata", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    fresh = [requests.get(f"{live_server.root_url}/healthz").headers["X-Request-ID"] for _ in range(2)]
    assert len(set(fresh)) == 2 and all(len(value) == 32 for value in fresh)
    assert client.get("Patient/not-there").headers["X-Request-ID"]  # error responses too


def test_each_request_writes_one_access_log_line(client, caplog):
    caplog.set_level("INFO", logger="server.access")
    client.get("Patient/not-there", headers={"X-Request-ID": "trace-43"})
    lines = [r for r in caplog.records if r.name == "server.access" and getattr(r, "request_id", None) == "trace-43"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status) == ("GET", "/fhir/Patient/not-there", 404)
    assert line.ms >= 0
