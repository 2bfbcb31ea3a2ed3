"""Refresh for public and confidential apps (app-launch.html#refresh-access-token; RFC 9700 4.14.2):
a public app refreshes with only grant_type, refresh_token and scope; its refresh token is rotated on every
use and the reuse of a rotated one revokes the whole grant. A confidential app authenticates and keeps its
refresh token."""

from __future__ import annotations

import threading

import requests

from tests.auth.smart_app import new_app, new_user
from tests.factories import patient

SCOPE = "launch/patient offline_access patient/*.rs"


def _token(live_server, client, unique, public=True):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs", public=public)
    username, password = new_user(live_server, f"Patient/{me['id']}")
    token = app.exchange(app.authorize(SCOPE, username, password)).json()
    return app, token, me


def _refresh_as_smart_js(live_server, refresh_token: str, scope: str | None = None) -> requests.Response:
    """What the SMART JS client sends for a public app: no client_id, no Authorization header."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token} | ({"scope": scope} if scope else {})
    return requests.post(f"{live_server.root_url}/auth/token", data=data)


def _read(live_server, access_token) -> int:
    return requests.get(
        f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {access_token}"}
    ).status_code


def _introspect(live_server, token: str) -> dict:
    resource_server = new_app(live_server, "system/*.rs", public=False, redirect=False)
    return requests.post(
        f"{live_server.root_url}/auth/introspect",
        data={"token": token},
        auth=(resource_server.client_id, resource_server.client_secret),
    ).json()


def test_public_app_refreshes_without_client_id_and_gets_a_rotated_token(live_server, client, unique):
    app, token, me = _token(live_server, client, unique)
    response = _refresh_as_smart_js(live_server, token["refresh_token"])
    assert response.status_code == 200, response.text
    refreshed = response.json()
    assert refreshed["patient"] == me["id"] and refreshed["scope"] == SCOPE
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != token["refresh_token"]
    assert _read(live_server, refreshed["access_token"]) == 200
    assert _introspect(live_server, token["refresh_token"]) == {"active": False}
    second = _refresh_as_smart_js(live_server, refreshed["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != refreshed["refresh_token"]


def test_reuse_of_a_rotated_refresh_token_revokes_the_whole_grant(live_server, client, unique):
    app, token, _ = _token(live_server, client, unique)
    refreshed = _refresh_as_smart_js(live_server, token["refresh_token"]).json()
    stolen = _refresh_as_smart_js(live_server, token["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert _refresh_as_smart_js(live_server, refreshed["refresh_token"]).json()["error"] == "invalid_grant"
    assert _read(live_server, refreshed["access_token"]) == 401
    assert _read(live_server, token["access_token"]) == 401


def test_two_parallel_uses_of_one_refresh_token_get_one_token_then_the_grant_ends(live_server, client, unique):
    app, token, _ = _token(live_server, client, unique)
    results, barrier = [], threading.Barrier(4)

    def use():
        barrier.wait()
        results.append(_refresh_as_smart_js(live_server, token["refresh_token"]))

    threads = [threading.Thread(target=use) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1
    assert _refresh_as_smart_js(live_server, winners[0].json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_narrowed_refresh_keeps_the_grants_scope_and_expiry_in_the_successor(live_server, client, unique):
    app, token, _ = _token(live_server, client, unique)
    narrowed = _refresh_as_smart_js(live_server, token["refresh_token"], scope="patient/Patient.rs").json()
    assert narrowed["scope"] == "patient/Patient.rs"
    family = _introspect(live_server, narrowed["refresh_token"])
    assert family["active"] is True and family["scope"] == SCOPE
    full = _refresh_as_smart_js(live_server, narrowed["refresh_token"]).json()
    assert full["scope"] == SCOPE
    assert _introspect(live_server, full["refresh_token"])["exp"] == family["exp"]


def test_public_refresh_with_client_id_still_works(live_server, client, unique):
    app, token, _ = _token(live_server, client, unique)
    assert app.refresh(token["refresh_token"]).status_code == 200


def test_confidential_app_refreshes_with_its_secret_and_keeps_its_refresh_token(live_server, client, unique):
    app, token, _ = _token(live_server, client, unique, public=False)
    for _ in range(2):
        refreshed = app.refresh(token["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert "refresh_token" not in refreshed.json()
    unauthenticated = _refresh_as_smart_js(live_server, token["refresh_token"])
    assert unauthenticated.status_code in (400, 401) and unauthenticated.json()["error"] == "invalid_client"
    app.client_secret = "wrong"
    assert app.refresh(token["refresh_token"]).status_code == 401


def test_unknown_refresh_token_without_client_is_invalid_client(live_server):
    response = _refresh_as_smart_js(live_server, "no-such-token")
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"
