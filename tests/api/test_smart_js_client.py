"""The SMART JavaScript client (npm fhirclient 2.x, its Node adapter) and fhir-kit-client (npm) against
this server, used as their docs show (tests/js): a launch that reads a patient's MedicationRequests and
the user, then refreshes as a public app (no client_id); transactions, batches and system search at
`[base]/`. The client's browser bundle runs in Chromium in test_smart_browser.py."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urljoin

import pytest
import requests

from server.auth.clients import register_client
from tests.auth.smart_app import Form, new_user
from tests.factories import MRN, medication_request, patient
from tests.js_support import JS_DIR, node, node_modules


@pytest.fixture
def node_app(live_server):
    """tests/js/smart_node_app.cjs listening on a free port, its iss this server."""
    node_modules()
    process = subprocess.Popen(
        [node(), str(JS_DIR / "smart_node_app.cjs"), live_server.base_url],
        cwd=JS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        yield f"http://127.0.0.1:{json.loads(line)['port']}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _submit(
    session: requests.Session,
    page: requests.Response,
    values: dict,
    containing: str | None = None,
    button: tuple[str, str] | None = None,
) -> requests.Response:
    form = Form(page.text, containing)
    data = [(n, v) for n, v in form.fields if n not in values] + list(values.items()) + ([button] if button else [])
    return session.post(urljoin(page.url, form.action), data=data, allow_redirects=False)


def test_smart_js_node_adapter_launches_reads_medications_and_refreshes_as_a_public_app(
    live_server, client, unique, node_app
):
    practitioner = client.create(
        {"resourceType": "Practitioner", "active": True, "name": [{"family": f"Node{unique[:6]}", "given": ["Ada"]}]}
    )
    record = client.create(patient(unique))
    prescriptions = {client.create(medication_request(record["id"]))["id"] for _ in range(2)}
    username, password = new_user(live_server, f"Practitioner/{practitioner['id']}")
    database = live_server.app.extensions["fhir.services"].database
    app = register_client(
        database,
        name="Node medication app",
        redirect_uris=[f"{node_app}/callback"],
        scope="patient/*.rs user/Practitioner.rs",
        public=True,
    )
    scope = "launch/patient openid fhirUser offline_access patient/*.rs user/Practitioner.rs"
    browser = requests.Session()
    launch = browser.get(
        f"{node_app}/launch", params={"client_id": app["client_id"], "scope": scope}, allow_redirects=False
    )
    assert launch.status_code == 302, launch.text
    assert launch.headers["Location"].startswith(f"{live_server.root_url}/auth/authorize?")
    page = browser.get(launch.headers["Location"], allow_redirects=False)
    page = _submit(browser, page, {"username": username, "password": password})
    page = _submit(browser, page, {"patient_id": record["id"]}, containing="patient_id")
    assert "Allow" in page.text, page.text[:300]
    back = _submit(browser, page, {}, button=("decision", "allow"))
    assert back.status_code == 302 and back.headers["Location"].startswith(f"{node_app}/callback?")
    result = browser.get(back.headers["Location"]).json()
    assert "error" not in result, result["error"] if "error" in result else ""
    assert result["patient"] == record["id"] and result["patientAfterRefresh"] == record["id"]
    assert set(result["medications"]) == prescriptions
    assert result["user"] == f"Practitioner/{practitioner['id']}" and result["userName"] == f"Node{unique[:6]}"
    assert result["refreshTokenRotated"] is True and result["accessTokenRenewed"] is True
    assert result["scope"] == scope


def test_fhir_kit_client_posts_transactions_and_batches_to_the_base_with_a_trailing_slash(live_server, unique):
    node_modules()
    done = subprocess.run(
        [node(), str(JS_DIR / "fhir_kit_base.mjs"), live_server.base_url, live_server.token(), f"kit-{unique}"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["requestedUrl"] == f"{live_server.base_url}/"
    assert result["transaction"] == "transaction-response" and result["created"].startswith("201")
    assert result["batch"] == "batch-response" and result["batchTotal"] == 1
    assert result["systemSearchTotal"] == 1
    found = requests.get(
        f"{live_server.base_url}/Patient",
        params={"identifier": f"{MRN}|kit-{unique}"},
        headers={"Authorization": f"Bearer {live_server.token()}"},
    ).json()
    assert found["total"] == 1
