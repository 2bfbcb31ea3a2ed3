"""`[base]/` is `[base]` (CONTRACT.md): batches, transactions and system search at `/fhir/`."""

from __future__ import annotations

from tests.factories import MRN, patient


def test_transaction_posted_to_base_with_trailing_slash(client, unique):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b1c6e4e-8a7e-4a5e-9d7c-1f2e3d4c5b6a",
                "resource": patient(unique),
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    response = client.post(f"{client.base_url}/", json=bundle)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "transaction-response"
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 1


def test_batch_posted_to_base_with_trailing_slash(client, unique):
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": f"Patient?identifier={MRN}|{unique}"}}],
    }
    response = client.post(f"{client.base_url}/", json=bundle)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "batch-response"


def test_system_search_at_base_with_trailing_slash(client, unique):
    created = client.create(patient(unique))
    response = client.get(f"{client.base_url}/", params={"_type": "Patient", "_id": created["id"]})
    assert response.status_code == 200, response.text
    assert [e["resource"]["id"] for e in response.json()["entry"]] == [created["id"]]


def test_base_with_trailing_slash_needs_a_token_like_the_base(live_server):
    import requests

    assert requests.get(f"{live_server.base_url}/", params={"_type": "Patient"}).status_code == 401


def _transaction(unique: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": patient(unique), "request": {"method": "POST", "url": "Patient"}}],
    }


def test_fhirpy_posts_a_transaction_and_searches_the_base(live_server, client, unique):
    from fhirpy import SyncFHIRClient

    fhir = SyncFHIRClient(live_server.base_url, authorization=f"Bearer {live_server.token()}")
    assert fhir._build_request_url("", None).startswith(f"{live_server.base_url}/?")  # the library's own URL
    result = fhir.execute("", method="post", data=_transaction(unique))
    assert result["type"] == "transaction-response"
    found = fhir.execute("", method="get", params={"_type": "Patient", "identifier": f"{MRN}|{unique}"})
    assert found["total"] == 1


def test_python_fhirclient_posts_a_transaction_to_the_base(live_server, client, unique):
    from fhirclient import client as smart_client

    smart = smart_client.FHIRClient(settings={"app_id": "tests", "api_base": live_server.base_url})
    smart.prepare()  # reads /metadata and its oauth-uris, as an app does before authorizing
    smart.server.auth.access_token = live_server.token()
    assert smart.server.base_uri == f"{live_server.base_url}/"
    response = smart.server.post_json("", _transaction(unique))  # urljoin(base_uri, ""): POST /fhir/
    assert response.url == f"{live_server.base_url}/"
    assert response.json()["type"] == "transaction-response"
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 1
