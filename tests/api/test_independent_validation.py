"""Every kind of body the server sends, checked by a validator that is not fhir.resources (Medplum's
validateResource over the R4 definitions, run in Node: tests/js/validate-fhir.mjs), plus the rules of
http.html and operationoutcome.html validators do not check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.factories import condition, medication_request, patient

JS_DIR = Path(__file__).resolve().parent.parent / "js"
FHIRPATH_INTO_CONTENT = re.compile(r"^[A-Z][A-Za-z]+(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?|\[\d+\])*$")


def validate(bodies: list[dict]) -> list[list[dict]]:
    """The validator's issues for each body, in order."""
    node = shutil.which("node")
    assert node, "node is needed for the independent validator (.ci/run installs it)"
    assert (JS_DIR / "node_modules" / "@medplum" / "core").is_dir(), "run `npm ci` in tests/js (.ci/run does)"
    result = subprocess.run(
        [node, str(JS_DIR / "validate-fhir.mjs")],
        input="\n".join(map(json.dumps, bodies)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=JS_DIR,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["line"] for line in lines] == list(range(len(bodies)))
    return [line["issues"] for line in lines]


def _errors(issues: list[dict]) -> list[dict]:
    return [issue for issue in issues if issue.get("severity") in ("error", "fatal")]


def test_the_validator_finds_what_it_should():
    """It can fail: a bad date, a total on a batch-response, a history entry without request."""
    found = validate(
        [
            {"resourceType": "Patient", "birthDate": "2020-13-01"},
            {
                "resourceType": "Bundle",
                "type": "batch-response",
                "total": 1,
                "entry": [{"response": {"status": "200"}}],
            },
            {
                "resourceType": "Bundle",
                "type": "history",
                "entry": [{"fullUrl": "http://x/fhir/Patient/1", "resource": {"resourceType": "Patient", "id": "1"}}],
            },
            {"resourceType": "Patient", "id": "fine", "gender": "female"},
        ]
    )
    assert [bool(_errors(issues)) for issues in found] == [True, True, True, False]


@pytest.fixture(scope="module")
def bodies(live_server) -> list[tuple[str, requests.Response]]:
    """One response of each kind the FHIR API sends."""
    token = live_server.token("system/*.cruds")
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    base = live_server.base_url
    subject = session.post(f"{base}/Patient", json=patient("indep-1")).json()
    request = session.post(f"{base}/MedicationRequest", json=medication_request(subject["id"])).json()
    session.post(f"{base}/Condition", json=condition(subject["id"]))
    session.put(f"{base}/Patient/{subject['id']}", json={**subject, "gender": "male"})
    put_created = session.put(f"{base}/Patient/indep-put", json={**patient("indep-2"), "id": "indep-put"})
    deleted = session.post(f"{base}/Patient", json=patient("indep-3")).json()
    session.delete(f"{base}/Patient/{deleted['id']}")
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": patient("indep-4"), "request": {"method": "POST", "url": "Patient"}},
            {"resource": {**patient("indep-5"), "gender": "martian"}, "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": f"Patient/{subject['id']}"}},
            {"request": {"method": "GET", "url": "Patient/never-there"}},
            {"request": {"method": "GET", "url": f"MedicationRequest?subject=Patient/{subject['id']}"}},
        ],
    }
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:8c0b0c36-3c0b-4c36-9c0b-0c363c0b4c36",
                "resource": patient("indep-6"),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    **medication_request("x"),
                    "subject": {"reference": "urn:uuid:8c0b0c36-3c0b-4c36-9c0b-0c363c0b4c36"},
                },
                "request": {"method": "POST", "url": "MedicationRequest"},
            },
        ],
    }
    failing = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": patient("indep-7"), "request": {"method": "POST", "url": "Patient"}},
            {"resource": {**patient("indep-8"), "gender": "martian"}, "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    calls = [
        ("metadata", session.get(f"{base}/metadata")),
        ("read", session.get(f"{base}/Patient/{subject['id']}")),
        ("vread", session.get(f"{base}/Patient/{subject['id']}/_history/1")),
        ("create", put_created),
        (
            "searchset with includes",
            session.get(
                f"{base}/MedicationRequest",
                params={
                    "subject": f"Patient/{subject['id']}",
                    "_include": "MedicationRequest:subject",
                    "_revinclude": "Condition:subject",
                    "shoe-size": "9",
                },
            ),
        ),
        ("searchset _summary=count", session.get(f"{base}/Patient", params={"_summary": "count"})),
        ("searchset _elements", session.get(f"{base}/Patient", params={"_elements": "gender", "_count": 2})),
        ("system search", session.get(f"{base}", params={"_type": "Patient,Condition", "_count": 3})),
        ("instance history", session.get(f"{base}/Patient/{subject['id']}/_history")),
        ("deleted history", session.get(f"{base}/Patient/{deleted['id']}/_history")),
        ("type history", session.get(f"{base}/Patient/_history", params={"_count": 5})),
        ("system history", session.get(f"{base}/_history", params={"_count": 5})),
        ("everything", session.get(f"{base}/Patient/{subject['id']}/$everything")),
        ("batch-response", session.post(base, json=batch)),
        ("transaction-response", session.post(base, json=transaction)),
        ("failed transaction", session.post(base, json=failing)),
        ("validate", session.post(f"{base}/Patient/$validate", json={**patient("v"), "gender": "martian"})),
        ("validate ok", session.post(f"{base}/Patient/$validate", json=patient("v"))),
        ("delete outcome", session.delete(f"{base}/MedicationRequest/{request['id']}")),
        ("gone", session.get(f"{base}/Patient/{deleted['id']}")),
        ("not found", session.get(f"{base}/Patient/never-there")),
        ("bad search", session.get(f"{base}/Patient", params={"birthdate": "yesterday"})),
        (
            "strict unknown parameter",
            session.get(f"{base}/Patient", params={"shoe-size": "9"}, headers={"Prefer": "handling=strict"}),
        ),
        ("invalid resource", session.post(f"{base}/Patient", json={**patient("x"), "gender": "martian"})),
        ("wrong type", session.post(f"{base}/Condition", json=patient("x"))),
        ("not acceptable", session.get(f"{base}/Patient/{subject['id']}", headers={"Accept": "application/fhir+xml"})),
        ("unauthorized", requests.get(f"{base}/Patient")),
        (
            "forbidden",
            requests.get(
                f"{base}/Condition",
                headers={"Authorization": f"Bearer {live_server.token('patient/Patient.rs', patient=subject['id'])}"},
            ),
        ),
        ("unknown type", session.get(f"{base}/Observation/1")),
    ]
    return calls


def test_every_body_validates_as_r4(bodies):
    parsed = [(label, response.json()) for label, response in bodies]
    assert all(body.get("resourceType") for _, body in parsed), [label for label, body in parsed]
    for (label, body), issues in zip(parsed, validate([body for _, body in parsed]), strict=False):
        assert not _errors(issues), (label, body.get("resourceType"), _errors(issues))


def test_outcome_expressions_point_into_submitted_content_and_parameters_are_locations(bodies):
    """R4 operationoutcome.html: expression is FHIRPath into the content sent; parameters go in location."""
    outcomes = []
    for label, response in bodies:
        body = response.json()
        if body["resourceType"] == "OperationOutcome":
            outcomes.append((label, response.request.method, body))
        for entry in body.get("entry", []) if body["resourceType"] == "Bundle" else []:
            if "outcome" in entry.get("response", {}):
                outcomes.append((label, "POST", entry["response"]["outcome"]))
    assert len(outcomes) >= 10
    for label, method, outcome in outcomes:
        for issue in outcome["issue"]:
            for path in issue.get("expression", []):
                assert FHIRPATH_INTO_CONTENT.match(path), (label, path)
                assert method != "GET", (label, path)  # a GET sends no content to point into
            for place in issue.get("location", []):
                assert place.startswith("http.") or FHIRPATH_INTO_CONTENT.match(place), (label, place)


def test_bundle_rules_of_http_html(bodies):
    """Each searchset entry has fullUrl and search.mode; history entries request and response;
    batch/transaction responses a response per entry, in the request's order."""
    for label, response in bodies:
        body = response.json()
        if body["resourceType"] != "Bundle":
            continue
        entries = body.get("entry", [])
        if body["type"] == "searchset":
            assert "total" in body or "_summary" not in response.request.url, label
            assert all(
                e.get("fullUrl") and e.get("search", {}).get("mode") in ("match", "include", "outcome") for e in entries
            ), label
            assert all(link["relation"] in ("self", "next", "previous", "first", "last") for link in body["link"])
        elif body["type"] == "history":
            assert all(
                e["request"]["method"] in ("POST", "PUT", "PATCH", "DELETE") and e["response"]["status"]
                for e in entries
            ), label
        elif body["type"] in ("batch-response", "transaction-response"):
            assert entries and all("response" in e and "request" not in e for e in entries), label
