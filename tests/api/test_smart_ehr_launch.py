"""EHR launch (app-launch.html#launch-app-ehr-launch): the EHR creates a single-use launch with its
context; the app's authorize request carries it and the token response returns the context."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests

from tests.auth.smart_app import new_app, new_user, verify_with_jwks
from tests.factories import patient


def test_full_ehr_launch_returns_the_launch_context(live_server, client, unique):
    record = client.create(patient(unique))
    ehr = requests.post(
        f"{live_server.root_url}/auth/launch",
        json={"patient": record["id"], "encounter": "enc-1"},
        headers={"Authorization": f"Bearer {live_server.token('system/*.cruds')}"},
    )
    assert ehr.status_code == 201
    launch = ehr.json()["launch"]
    app = new_app(live_server, "patient/*.rs user/*.rs")
    username, password = new_user(live_server, "Practitioner/dr-" + unique[:6])
    scope = "launch openid fhirUser patient/*.rs user/Patient.rs"
    authorization = app.authorize(scope, username, password, launch=launch)
    token = app.exchange(authorization).json()
    assert token["patient"] == record["id"]
    assert token["encounter"] == "enc-1"
    assert token["need_patient_banner"] is False
    assert token["smart_style_url"]
    assert verify_with_jwks(live_server, token["id_token"], audience=app.client_id)["fhirUser"].startswith(
        "Practitioner/"
    )
    reader = requests.get(
        f"{live_server.base_url}/Patient/{record['id']}", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert reader.status_code == 200


def test_launch_id_is_single_use(live_server, client, unique):
    record = client.create(patient(unique))
    ehr = requests.post(
        f"{live_server.root_url}/auth/launch",
        data={"patient": record["id"]},
        headers={"Authorization": f"Bearer {live_server.token('system/*.rs')}"},
    )
    launch = ehr.json()["launch"]
    app = new_app(live_server, "patient/*.rs")
    first, _, _ = app.start("launch patient/*.rs", launch=launch)
    assert first.status_code == 200
    second, _, _ = app.start("launch patient/*.rs", launch=launch)
    assert second.status_code == 302
    assert parse_qs(urlparse(second.headers["Location"]).query)["error"] == ["invalid_request"]


def test_creating_a_launch_needs_a_system_token(live_server, client, unique):
    record = client.create(patient(unique))
    url = f"{live_server.root_url}/auth/launch"
    assert requests.post(url, json={"patient": record["id"]}).status_code == 401
    patient_token = live_server.token("patient/*.rs", patient=record["id"])
    assert (
        requests.post(
            url, json={"patient": record["id"]}, headers={"Authorization": f"Bearer {patient_token}"}
        ).status_code
        == 403
    )


def test_launch_for_another_user_is_refused_at_login(live_server, client, unique):
    record = client.create(patient(unique))
    ehr = requests.post(
        f"{live_server.root_url}/auth/launch",
        json={"patient": record["id"], "user": "Practitioner/a"},
        headers={"Authorization": f"Bearer {live_server.token('system/*.rs')}"},
    )
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, "Practitioner/b" + unique[:6])
    page, _, _ = app.start("launch patient/*.rs", launch=ehr.json()["launch"])
    assert app.submit(page, {"username": username, "password": password}).status_code == 403
