"""The token endpoint and the token lifecycle (app-launch.html#obtain-access-token, RFC 7636,
RFC 7662, RFC 7009): single-use codes, PKCE verifiers, refresh that never widens, introspection,
revocation of a refresh token together with the access tokens issued from it."""

from __future__ import annotations

import threading

import psycopg
import requests

from server.auth.passwords import secret_hash
from tests.auth.smart_app import new_app, new_user, pkce_pair
from tests.factories import patient

SCOPE = "launch/patient offline_access patient/*.rs"


def _authorized(live_server, client, unique, scope=SCOPE, public=True):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs", public=public)
    username, password = new_user(live_server, f"Patient/{me['id']}")
    return app, app.authorize(scope, username, password), me


def _fhir(live_server, access_token, path="Patient"):
    return requests.get(f"{live_server.base_url}/{path}", headers={"Authorization": f"Bearer {access_token}"})


def test_wrong_code_verifier_is_refused(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    response = app.exchange(authorization, verifier=pkce_pair()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_refused_for_confidential_clients_too(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique, public=False)
    response = app.exchange(authorization, verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_confidential_client_with_secret_exchanges_its_code(live_server, client, unique):
    app, authorization, me = _authorized(live_server, client, unique, public=False)
    token = app.exchange(authorization).json()
    assert token["patient"] == me["id"]


def test_confidential_client_without_its_secret_is_refused(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique, public=False)
    app.client_secret = None
    assert app.exchange(authorization).status_code in (400, 401)


def test_code_is_single_use_and_reuse_revokes_what_it_issued(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    first = app.exchange(authorization)
    assert first.status_code == 200
    second = app.exchange(authorization)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    # RFC 6749 4.1.2: a replayed code revokes the tokens issued from it
    assert _fhir(live_server, first.json()["access_token"]).status_code == 401
    assert app.refresh(first.json()["refresh_token"]).status_code == 400


def test_parallel_exchanges_of_one_code_give_exactly_one_token(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    barrier, results = threading.Barrier(4), []

    def exchange():
        barrier.wait()
        results.append(app.exchange(authorization).status_code)

    threads = [threading.Thread(target=exchange) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400, 400, 400]


def test_expired_code_is_refused(live_server, client, unique, database_url):
    app, authorization, _ = _authorized(live_server, client, unique)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE auth_codes SET expires_at = now() - interval '1 second' WHERE code_hash = %s",
            (secret_hash(authorization.code),),
        )
    assert app.exchange(authorization).json()["error"] == "invalid_grant"


def test_code_issued_to_another_client_is_refused(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    other = new_app(live_server, "patient/*.rs")
    other.redirect_uri = app.redirect_uri
    assert other.exchange(authorization).json()["error"] == "invalid_grant"


def test_refresh_keeps_context_and_may_narrow(live_server, client, unique):
    app, authorization, me = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    refreshed = app.refresh(token["refresh_token"], scope="patient/Condition.rs")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "patient/Condition.rs"
    assert refreshed.json()["patient"] == me["id"]
    assert _fhir(live_server, refreshed.json()["access_token"], "Condition").status_code == 200
    assert _fhir(live_server, refreshed.json()["access_token"], "Patient").status_code == 403
    same = app.refresh(refreshed.json()["refresh_token"]).json()  # public client: the rotated successor
    assert same["scope"] == SCOPE


def test_refresh_narrowing_v1_scope_to_v2_subset_is_accepted(live_server, client, unique):
    app, authorization, _ = _authorized(
        live_server, client, unique, scope="launch/patient offline_access patient/*.read"
    )
    token = app.exchange(authorization).json()
    assert app.refresh(token["refresh_token"], scope="patient/Patient.r").status_code == 200


def test_refresh_that_widens_scope_is_refused(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    for wider in (
        "patient/*.cruds",
        "patient/*.rs user/*.rs",
        "patient/*.rs openid",
        "system/*.rs",
        "patient/*.rs?category=x patient/Condition.rsd",
    ):
        response = app.refresh(token["refresh_token"], scope=wider)
        assert response.status_code == 400, wider
        assert response.json()["error"] == "invalid_scope", wider


def test_refresh_cannot_drop_a_granular_restriction(live_server, client, unique):
    granular = "launch/patient offline_access patient/Condition.rs?category=problem-list-item"
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    token = app.exchange(app.authorize(granular, username, password)).json()
    assert app.refresh(token["refresh_token"], scope="patient/Condition.rs").json()["error"] == "invalid_scope"


def test_no_refresh_token_without_offline_or_online_access(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique, scope="launch/patient patient/*.rs")
    assert "refresh_token" not in app.exchange(authorization).json()


def test_revoking_refresh_token_revokes_it_and_its_access_tokens(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    refreshed = app.refresh(token["refresh_token"]).json()
    assert _fhir(live_server, refreshed["access_token"]).status_code == 200
    response = requests.post(
        f"{live_server.root_url}/auth/revoke", data={"token": token["refresh_token"], "client_id": app.client_id}
    )
    assert response.status_code == 200
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert _fhir(live_server, token["access_token"]).status_code == 401
    assert _fhir(live_server, refreshed["access_token"]).status_code == 401


def test_another_client_cannot_revoke_a_token(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    other = new_app(live_server, "patient/*.rs")
    requests.post(
        f"{live_server.root_url}/auth/revoke", data={"token": token["refresh_token"], "client_id": other.client_id}
    )
    assert app.refresh(token["refresh_token"]).status_code == 200


def test_revoking_an_access_token_ends_it(live_server, client, unique):
    app, authorization, _ = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    requests.post(
        f"{live_server.root_url}/auth/revoke", data={"token": token["access_token"], "client_id": app.client_id}
    )
    assert _fhir(live_server, token["access_token"]).status_code == 401


def test_introspection_reports_active_tokens_and_inactive_anything_else(live_server, client, unique):
    app, authorization, me = _authorized(live_server, client, unique)
    token = app.exchange(authorization).json()
    resource_server = new_app(live_server, "system/*.rs", public=False, redirect=False)
    url = f"{live_server.root_url}/auth/introspect"
    auth = (resource_server.client_id, resource_server.client_secret)
    active = requests.post(url, data={"token": token["access_token"]}, auth=auth).json()
    assert active["active"] is True
    assert active["scope"] == SCOPE and active["client_id"] == app.client_id and active["patient"] == me["id"]
    assert active["iss"] == live_server.base_url and active["exp"] > 0
    assert active["fhirUser"] == f"Patient/{me['id']}" and active["sub"]
    refresh = requests.post(url, data={"token": token["refresh_token"]}, auth=auth).json()
    assert refresh["active"] is True and refresh["patient"] == me["id"]
    assert requests.post(url, data={"token": "nonsense"}, auth=auth).json() == {"active": False}
    requests.post(
        f"{live_server.root_url}/auth/revoke", data={"token": token["refresh_token"], "client_id": app.client_id}
    )
    assert requests.post(url, data={"token": token["refresh_token"]}, auth=auth).json() == {"active": False}
    assert requests.post(url, data={"token": token["access_token"]}, auth=auth).json() == {"active": False}


def test_introspection_needs_client_authentication(live_server):
    response = requests.post(f"{live_server.root_url}/auth/introspect", data={"token": "x"})
    assert response.status_code in (400, 401)


def test_expired_access_token_is_inactive_and_refused(live_server):
    token = live_server.tokens.mint("system/*.rs", -60, subject="t", client_id="t")["access_token"]
    assert _fhir(live_server, token).status_code == 401


def test_token_endpoint_is_rate_limited_with_retry_after(live_server):
    app = new_app(live_server, "patient/*.rs", public=False)
    app.client_secret = "wrong"
    statuses = [app.token_request({"grant_type": "authorization_code", "code": "x"}) for _ in range(61)]
    assert statuses[-1].status_code == 429
    assert int(statuses[-1].headers["Retry-After"]) >= 1


def test_login_is_rate_limited_with_retry_after(live_server, unique):
    app = new_app(live_server, "patient/*.rs")
    username, _ = new_user(live_server, "Patient/r" + unique[:6])
    page, _, _ = app.start("patient/*.rs")
    statuses = [app.submit(page, {"username": username, "password": "wrong"}).status_code for _ in range(10)]
    assert set(statuses) == {401}
    limited = app.submit(page, {"username": username, "password": "wrong"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
