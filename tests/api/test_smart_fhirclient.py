"""The official SMART Python client (fhirclient) completes a standalone launch against this server:
it discovers the endpoints from the CapabilityStatement's oauth-uris extension, sends PKCE S256,
exchanges the code and reads with the token."""

from __future__ import annotations

import requests
from fhirclient import client as smart_client

from tests.auth.smart_app import Form, new_app, new_user
from tests.factories import patient


def _follow_pages(authorize_url: str, username: str, password: str) -> str:
    """Play the user: sign in and allow; return the URL the browser is sent back to."""
    session = requests.Session()
    page = session.get(authorize_url, allow_redirects=False)
    assert page.status_code == 200, page.headers.get("Location")
    for values in ({"username": username, "password": password}, {"decision": "allow"}):
        form = Form(page.text)
        data = [(n, v) for n, v in form.fields if n not in values] + list(values.items())
        page = session.post(requests.compat.urljoin(page.url, form.action), data=data, allow_redirects=False)
    assert page.status_code == 302, page.text[:300]
    return page.headers["Location"]


def test_fhirclient_completes_a_standalone_launch(live_server, client, unique):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    smart = smart_client.FHIRClient(
        settings={
            "app_id": app.client_id,
            "api_base": live_server.base_url,
            "redirect_uri": app.redirect_uri,
            "scope": "launch/patient openid fhirUser patient/*.rs",
        }
    )
    callback = _follow_pages(smart.authorize_url, username, password)
    smart.handle_callback(callback)
    assert smart.ready
    assert smart.patient_id == me["id"]
    assert smart.server.request_json(f"Patient/{me['id']}")["id"] == me["id"]
