"""The authorization request's checks (app-launch.html#obtain-authorization-code): unknown client
or unregistered redirect -> an error page, never a redirect; wrong aud, missing or plain PKCE, an
unknown launch -> back to the app with an error and the state."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.auth.smart_app import new_app


def _error_of(response) -> tuple[str, str]:
    assert response.status_code == 302, response.text[:300]
    query = parse_qs(urlparse(response.headers["Location"]).query)
    return query["error"][0], query.get("state", [""])[0]


def test_unknown_client_gets_an_error_page_not_a_redirect(live_server):
    app = new_app(live_server, "patient/*.rs")
    app.client_id = "no-such-client"
    response, _, _ = app.start("patient/*.rs")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", redirect_uri=app.redirect_uri + "/evil")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_redirect_uri_prefix_of_registered_one_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", redirect_uri=app.redirect_uri[:-1])
    assert response.status_code == 400


def test_wrong_aud_is_refused_with_state(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, params, _ = app.start("patient/*.rs", aud="https://other.example/fhir")
    assert _error_of(response) == ("invalid_request", params["state"])


def test_aud_with_trailing_slash_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", aud=live_server.base_url + "/")
    assert _error_of(response)[0] == "invalid_request"


def test_missing_aud_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", aud=None)
    assert _error_of(response)[0] == "invalid_request"


def test_missing_code_challenge_is_refused_even_for_confidential_clients(live_server):
    app = new_app(live_server, "patient/*.rs", public=False)
    response, _, _ = app.start("patient/*.rs", code_challenge=None, code_challenge_method=None)
    assert _error_of(response)[0] == "invalid_request"


def test_plain_code_challenge_method_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", code_challenge="x" * 50, code_challenge_method="plain")
    assert _error_of(response)[0] == "invalid_request"


def test_code_challenge_without_method_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", code_challenge_method=None)
    assert _error_of(response)[0] == "invalid_request"


def test_unknown_launch_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("launch patient/*.rs", launch="not-a-launch")
    assert _error_of(response)[0] == "invalid_request"


def test_unsupported_response_type_is_refused(live_server):
    app = new_app(live_server, "patient/*.rs")
    response, _, _ = app.start("patient/*.rs", response_type="token")
    assert _error_of(response)[0] == "unsupported_response_type"
