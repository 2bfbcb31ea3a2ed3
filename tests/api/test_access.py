"""Bearer tokens on every FHIR request: signature, issuer, audience, expiry and SMART scopes."""

from __future__ import annotations

import time

import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.factories import medication_request, patient


def test_request_without_token_returns_401_with_bearer_challenge(live_server):
    response = requests.get(f"{live_server.base_url}/Patient")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"


def test_token_signed_by_another_key_returns_401(live_server):
    other_key = RSAKey.generate_key(2048, auto_kid=True)
    claims = {
        "iss": live_server.base_url,
        "aud": live_server.base_url,
        "exp": int(time.time()) + 60,
        "scope": "system/*.cruds",
        "sub": "x",
    }
    forged = jwt.encode({"alg": "RS256", "kid": live_server.tokens.signing_key.kid}, claims, other_key)
    response = requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def _token_with(live_server, **overrides) -> str:
    claims = {
        "iss": live_server.base_url,
        "aud": live_server.base_url,
        "exp": int(time.time()) + 60,
        "scope": "system/*.cruds",
        "sub": "x",
        **overrides,
    }
    key = live_server.tokens.signing_key
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_token_for_another_audience_returns_401(live_server):
    token = _token_with(live_server, aud="https://other.example/fhir")
    assert (
        requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_token_from_another_issuer_returns_401(live_server):
    token = _token_with(live_server, iss="https://evil.example")
    assert (
        requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_expired_token_returns_401(live_server):
    token = _token_with(live_server, exp=int(time.time()) - 31)
    assert (
        requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_token_within_clock_skew_is_accepted(live_server):
    token = _token_with(live_server, exp=int(time.time()) - 5)
    assert (
        requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_unsigned_token_returns_401(live_server):
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    payload = "eyJzY29wZSI6InN5c3RlbS8qLioifQ"
    response = requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {header}.{payload}."})
    assert response.status_code == 401


def test_v1_read_scope_allows_read_and_search_but_not_write(client, client_with, unique):
    created = client.create(patient(unique))
    reader = client_with("system/Patient.read")
    assert reader.get(f"Patient/{created['id']}").status_code == 200
    assert reader.get("Patient", params={"_id": created["id"]}).status_code == 200
    assert reader.post("Patient", json=patient(unique)).status_code == 403
    assert reader.delete(f"Patient/{created['id']}").status_code == 403


def test_scope_for_another_type_returns_403(client, client_with, unique):
    created = client.create(patient(unique))
    reader = client_with("system/MedicationRequest.rs")
    response = reader.get(f"Patient/{created['id']}")
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"


def test_v2_search_only_scope_cannot_read_by_id(client, client_with, unique):
    created = client.create(patient(unique))
    searcher = client_with("system/Patient.s")
    assert searcher.get("Patient", params={"_id": created["id"]}).json()["total"] == 1
    assert searcher.get(f"Patient/{created['id']}").status_code == 403


def test_v2_create_scope_allows_create_only(client, client_with, unique):
    subject = client.create(patient(unique))  # the request's subject must exist (referential integrity)
    writer = client_with("system/MedicationRequest.c")
    assert writer.post("MedicationRequest", json=medication_request(subject["id"])).status_code == 201
    assert writer.get("MedicationRequest").status_code == 403


def test_v1_wildcard_scope_gives_full_access(client_with, unique):
    full = client_with("system/*.*")
    created = full.create(patient(unique))
    assert full.delete(f"Patient/{created['id']}").status_code == 200


def test_scope_without_resource_access_returns_403(client_with):
    assert client_with("openid fhirUser").get("Patient").status_code == 403


def test_patient_scope_reads_only_its_own_compartment(client, client_with, unique):
    mine = client.create(patient(unique + "a"))
    other = client.create(patient(unique + "b"))
    my_request = client.create(medication_request(mine["id"]))
    other_request = client.create(medication_request(other["id"]))
    reader = client_with("patient/*.rs", patient=mine["id"])
    assert reader.get(f"Patient/{mine['id']}").status_code == 200
    assert reader.get(f"Patient/{other['id']}").status_code == 404
    assert reader.get(f"MedicationRequest/{my_request['id']}").status_code == 200
    assert reader.get(f"MedicationRequest/{other_request['id']}").status_code == 404
    found = reader.get("MedicationRequest", params={"_id": f"{my_request['id']},{other_request['id']}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [my_request["id"]]


def test_jwks_is_public_and_verifies_issued_tokens(live_server):
    keys = requests.get(f"{live_server.root_url}/auth/jwks.json").json()["keys"]
    assert keys and all("d" not in key for key in keys)
    from joserfc.jwk import KeySet

    token = live_server.token("system/*.rs")
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": keys}), algorithms=["RS256"])
    assert decoded.claims["scope"] == "system/*.rs"
