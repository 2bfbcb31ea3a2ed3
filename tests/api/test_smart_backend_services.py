"""SMART Backend Services (backend-services.html): client_credentials with a signed client assertion
(RS384 or ES384), keys from the registered JWKS (inline or URL), single-use jti, system/ scopes only."""

from __future__ import annotations

import http.server
import json
import threading
import time

import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.auth.smart_app import new_app, verify_with_jwks

GRANT = {"grant_type": "client_credentials", "scope": "system/Patient.rs"}


def _post(app, **assertion_args):
    return requests.post(app.token_url, data={**GRANT, **app.assertion(**assertion_args)})


def test_backend_service_gets_a_system_token_with_rs384(live_server):
    app = new_app(live_server, "system/Patient.rs system/Condition.rs", public=False, key="RS384", redirect=False)
    response = _post(app)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["scope"] == "system/Patient.rs" and token["token_type"] == "Bearer"
    assert token["expires_in"] <= 300 and "refresh_token" not in token
    assert response.headers["Cache-Control"] == "no-store"
    assert verify_with_jwks(live_server, token["access_token"])["client_id"] == app.client_id
    fhir = requests.get(f"{live_server.base_url}/Patient", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert fhir.status_code == 200


def test_backend_service_with_es384(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="ES384", redirect=False)
    assert _post(app).status_code == 200


def test_replayed_jti_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    assertion = app.assertion()
    assert requests.post(app.token_url, data={**GRANT, **assertion}).status_code == 200
    replay = requests.post(app.token_url, data={**GRANT, **assertion})
    assert replay.status_code in (400, 401) and replay.json()["error"] == "invalid_client"


def test_parallel_requests_with_one_jti_give_exactly_one_token(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    assertion = app.assertion()
    barrier, results = threading.Barrier(4), []

    def post():
        barrier.wait()
        results.append(requests.post(app.token_url, data={**GRANT, **assertion}).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results)[0] == 200 and results.count(200) == 1


def test_assertion_expiring_more_than_five_minutes_ahead_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    assert _post(app, lifetime=900).json()["error"] == "invalid_client"


def test_expired_assertion_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    assert _post(app, lifetime=-120).json()["error"] == "invalid_client"


def test_assertion_for_another_audience_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    assert _post(app, aud="https://other.example/token").json()["error"] == "invalid_client"


def test_assertion_signed_by_an_unregistered_key_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    app.private_key = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False).private_key
    assert _post(app).json()["error"] == "invalid_client"


def test_rs256_assertion_is_refused(live_server):
    app = new_app(live_server, "system/*.rs", public=False, key="RS384", redirect=False)
    key = RSAKey.import_key({k: v for k, v in app.private_key.as_dict(private=True).items() if k != "alg"})
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": app.private_key.kid},
        {"iss": app.client_id, "sub": app.client_id, "aud": app.token_url, "exp": now + 60, "jti": "a"},
        key,
        algorithms=["RS256"],
    )
    response = requests.post(
        app.token_url,
        data={
            **GRANT,
            "client_assertion": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        },
    )
    assert response.json()["error"] == "invalid_client"


def test_unregistered_system_scopes_are_not_granted(live_server):
    app = new_app(live_server, "system/Patient.rs", public=False, key="RS384", redirect=False)
    response = requests.post(
        app.token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "system/Patient.rs system/Condition.cruds",
            **app.assertion(),
        },
    )
    assert response.json()["scope"] == "system/Patient.rs"
    widened = requests.post(
        app.token_url, data={"grant_type": "client_credentials", "scope": "system/*.cruds", **app.assertion()}
    )
    assert widened.json()["error"] == "invalid_scope"


def test_public_client_cannot_use_client_credentials(live_server):
    app = new_app(live_server, "system/*.rs")
    response = requests.post(app.token_url, data={**GRANT, "client_id": app.client_id})
    assert response.status_code in (400, 401)


def test_keys_are_fetched_from_a_registered_jwks_url(live_server):
    holder = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(holder["jwks"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        app = new_app(
            live_server,
            "system/*.rs",
            public=False,
            key="ES384",
            redirect=False,
            jwks_url=f"http://127.0.0.1:{httpd.server_port}/jwks.json",
        )
        holder["jwks"] = KeySet([app.private_key]).as_dict(private=False)
        assert _post(app).status_code == 200
    finally:
        httpd.shutdown()
