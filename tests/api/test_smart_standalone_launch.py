"""Standalone launch (app-launch.html): a patient or a practitioner signs in, consents, and the app
gets a code it exchanges with its PKCE verifier; the tokens verify against the published JWKS."""

from __future__ import annotations

from tests.auth.smart_app import new_app, new_user, verify_with_jwks
from tests.factories import condition, patient

SCOPE = "launch/patient openid fhirUser offline_access patient/*.rs"


def test_patient_standalone_launch_gets_own_patient_and_verifiable_tokens(live_server, client, unique):
    me = client.create(patient(unique))
    client.create(condition(me["id"]))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    authorization = app.authorize(SCOPE, username, password)
    assert authorization.query["state"] == [authorization.state]
    response = app.exchange(authorization)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["scope"] == SCOPE
    assert token["patient"] == me["id"]
    assert 0 < token["expires_in"] <= 3600
    assert token["need_patient_banner"] is True
    assert token["smart_style_url"].startswith("http")
    assert token["refresh_token"]
    claims = verify_with_jwks(live_server, token["access_token"])
    assert claims["patient"] == me["id"] and claims["client_id"] == app.client_id
    id_token = verify_with_jwks(live_server, token["id_token"], audience=app.client_id)
    assert id_token["fhirUser"] == f"Patient/{me['id']}"
    fhir = app.session
    fhir.headers["Authorization"] = f"Bearer {token['access_token']}"
    found = fhir.get(f"{live_server.base_url}/Condition").json()
    assert found["total"] == 1


def test_practitioner_standalone_launch_picks_a_patient(live_server, client, unique):
    chosen = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs user/*.rs")
    username, password = new_user(live_server, "Practitioner/p-" + unique[:8])
    authorization = app.authorize("launch/patient patient/*.rs", username, password, patient=chosen["id"])
    token = app.exchange(authorization).json()
    assert token["patient"] == chosen["id"]
    assert token["scope"] == "launch/patient patient/*.rs"


def test_user_narrows_scopes_at_consent(live_server, client, unique):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    authorization = app.authorize(
        "launch/patient patient/Condition.rs patient/Patient.rs",
        username,
        password,
        keep=["launch/patient", "patient/Patient.rs"],
    )
    token = app.exchange(authorization).json()
    assert token["scope"] == "launch/patient patient/Patient.rs"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    import requests

    assert requests.get(f"{live_server.base_url}/Condition", headers=headers).status_code == 403


def test_deny_redirects_with_access_denied_and_state(live_server, client, unique):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    authorization = app.authorize("launch/patient patient/*.rs", username, password, decision="deny")
    assert authorization.query["error"] == ["access_denied"]
    assert authorization.query["state"] == [authorization.state]
    assert "code" not in authorization.query


def test_authorize_post_works_like_get(live_server, client, unique):
    client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    page, _, _ = app.start("launch/patient patient/*.rs", method="POST")
    assert page.status_code == 200 and 'name="password"' in page.text


def test_wrong_password_shows_login_again(live_server, unique):
    app = new_app(live_server, "patient/*.rs")
    username, _ = new_user(live_server, "Patient/x" + unique[:6])
    page, _, _ = app.start("patient/*.rs")
    again = app.submit(page, {"username": username, "password": "wrong"})
    assert again.status_code == 401
    assert 'name="password"' in again.text
