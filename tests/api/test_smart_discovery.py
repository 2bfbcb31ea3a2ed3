"""SMART discovery (conformance.html): .well-known/smart-configuration, OpenID configuration, JWKS,
and the CapabilityStatement's oauth-uris extension; public, JSON, with CORS."""

from __future__ import annotations

import requests

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def test_smart_configuration_is_public_json_with_required_fields(live_server):
    response = requests.get(f"{live_server.base_url}/.well-known/smart-configuration", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    config = response.json()
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ):
        assert config[name].startswith("http://127.0.0.1:"), name
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {
        "launch-ehr",
        "launch-standalone",
        "authorize-post",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "sso-openid-connect",
        "context-banner",
        "context-style",
        "context-ehr-patient",
        "context-ehr-encounter",
        "context-standalone-patient",
        "permission-offline",
        "permission-online",
        "permission-patient",
        "permission-user",
        "permission-v1",
        "permission-v2",
    } <= set(config["capabilities"])
    assert {"private_key_jwt", "client_secret_basic", "none"} <= set(config["token_endpoint_auth_methods_supported"])
    assert {"RS384", "ES384"} <= set(config["token_endpoint_auth_signing_alg_values_supported"])
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(config["grant_types_supported"])
    assert "launch/patient" in config["scopes_supported"]


def test_openid_configuration_names_this_issuer_and_its_keys(live_server):
    config = requests.get(f"{live_server.base_url}/.well-known/openid-configuration").json()
    assert config["issuer"] == live_server.base_url
    keys = requests.get(config["jwks_uri"]).json()["keys"]
    assert keys and all(key.get("kid") and "d" not in key for key in keys)


def test_capability_statement_carries_oauth_uris_and_cors(live_server):
    response = requests.get(f"{live_server.base_url}/metadata")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    security = response.json()["rest"][0]["security"]
    extension = next(e for e in security["extension"] if e["url"] == OAUTH_URIS)
    uris = {e["url"]: e["valueUri"] for e in extension["extension"]}
    config = requests.get(f"{live_server.base_url}/.well-known/smart-configuration").json()
    assert uris["authorize"] == config["authorization_endpoint"]
    assert uris["token"] == config["token_endpoint"]
    assert uris["introspect"] == config["introspection_endpoint"]
    assert uris["revoke"] == config["revocation_endpoint"]
