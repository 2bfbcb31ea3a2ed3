"""CORS for browser SMART apps (app-launch.html: servers supporting browser apps enable CORS): preflights
answered without a token on the FHIR API, the token endpoint, the .well-known documents and the JWKS;
the FHIR headers allowed and exposed; origins configurable (FHIR_CORS_ORIGINS, default any)."""

from __future__ import annotations

import dataclasses

import pytest
import requests

from server.config import Settings
from tests.conftest import LiveServer
from tests.factories import patient

APP = "https://app.example:8443"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, prefer, if-match, if-none-exist",
}


def _allowed_headers(response) -> set[str]:
    return {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}


def _exposed(response) -> set[str]:
    return {h.strip().lower() for h in response.headers.get("Access-Control-Expose-Headers", "").split(",")}


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Patient",
        "/fhir",
        "/fhir/",
        "/fhir/Patient/x/_history/1",
        "/auth/token",
        "/fhir/.well-known/smart-configuration",
        "/auth/jwks.json",
        "/fhir/metadata",
    ],
)
def test_preflight_is_answered_without_a_token(live_server, path):
    response = requests.options(live_server.root_url + path, headers=PREFLIGHT)
    assert response.status_code == 204, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"authorization", "content-type", "prefer", "if-match", "if-none-exist"} <= _allowed_headers(response)
    assert {"GET", "POST", "PUT", "DELETE"} <= {
        m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")
    }
    assert "Access-Control-Allow-Credentials" not in response.headers  # tokens, not cookies


def test_created_resource_exposes_etag_and_location(live_server, client, unique):
    response = client.post("Patient", json=patient(unique), headers={"Origin": APP})
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"etag", "location", "content-location"} <= _exposed(response)


def test_refused_request_still_carries_cors_headers_so_the_app_can_read_the_401(live_server):
    response = requests.get(f"{live_server.base_url}/Patient", headers={"Origin": APP})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "www-authenticate" in _exposed(response)


@pytest.mark.parametrize(
    "path",
    [
        "/auth/token",
        "/auth/jwks.json",
        "/fhir/.well-known/smart-configuration",
        "/fhir/.well-known/openid-configuration",
        "/fhir/metadata",
    ],
)
def test_auth_and_discovery_responses_allow_any_origin(live_server, path):
    method = requests.post if path == "/auth/token" else requests.get
    response = method(live_server.root_url + path, headers={"Origin": APP})
    assert response.headers["Access-Control-Allow-Origin"] == "*", (path, response.status_code)


def test_login_pages_are_not_cross_origin_resources(live_server):
    response = requests.get(f"{live_server.root_url}/auth/authorize", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture(scope="module")
def listed_origins_server(settings):
    server = LiveServer(dataclasses.replace(settings, cors_origins=(APP,)))
    yield server
    server.stop()


def test_configured_origins_are_echoed_and_others_refused(listed_origins_server):
    url = f"{listed_origins_server.base_url}/Patient"
    allowed = requests.options(url, headers=PREFLIGHT)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == APP
    assert "Origin" in allowed.headers["Vary"]
    other = requests.options(url, headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert other.status_code == 403
    assert "Access-Control-Allow-Origin" not in other.headers
    read = requests.get(url, headers={"Origin": "https://evil.example"})
    assert read.status_code == 401 and "Access-Control-Allow-Origin" not in read.headers


def test_cors_origins_setting_parses_lists_any_and_none():
    assert Settings.from_env(env={}).cors_origins == ("*",)
    assert Settings.from_env(env={"FHIR_CORS_ORIGINS": f"{APP}/, http://localhost:3000"}).cors_origins == (
        APP,
        "http://localhost:3000",
    )
    assert Settings.from_env(env={"FHIR_CORS_ORIGINS": "none"}).cors_origins == ()
    with pytest.raises(ValueError, match="FHIR_CORS_ORIGINS"):
        Settings.from_env(env={"FHIR_CORS_ORIGINS": "https://app.example/path"})


def test_metadata_says_cors_only_when_some_origin_is_allowed(live_server, settings):
    assert requests.get(f"{live_server.base_url}/metadata").json()["rest"][0]["security"]["cors"] is True
    server = LiveServer(dataclasses.replace(settings, cors_origins=()))
    try:
        statement = requests.get(f"{server.base_url}/metadata").json()
    finally:
        server.stop()
    assert statement["rest"][0]["security"]["cors"] is False
