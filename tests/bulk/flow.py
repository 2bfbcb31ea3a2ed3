"""A Bulk Data client as a payer writes one: kick off, poll honouring Retry-After, download every file."""

from __future__ import annotations

import time

import orjson
import requests

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def kick_off(session: requests.Session, url: str, params=None, json=None, headers=None) -> requests.Response:
    headers = {**ASYNC, **(headers or {})}
    if json is not None:
        return session.post(url, json=json, headers=headers)
    return session.get(url, params=params, headers=headers)


def poll(session: requests.Session, status_url: str, timeout: float = 60) -> requests.Response:
    """Polls until the job is no longer in progress, sleeping as Retry-After says (at most 1 s here)."""
    deadline = time.monotonic() + timeout
    while True:
        response = session.get(status_url)
        if response.status_code != 202:
            return response
        assert "X-Progress" in response.headers and response.headers["Retry-After"].isdigit()
        assert time.monotonic() < deadline, "export did not finish in time"
        time.sleep(min(float(response.headers["Retry-After"]), 0.2))


def download(session: requests.Session, manifest: dict) -> dict[str, list[dict]]:
    """Every output file's resources by type, each line parsed on its own."""
    found: dict[str, list[dict]] = {}
    for item in manifest["output"]:
        response = session.get(item["url"], headers={"Accept": "application/fhir+ndjson"})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/fhir+ndjson")
        lines = response.content.splitlines()
        assert len(lines) == item["count"]
        found.setdefault(item["type"], []).extend(orjson.loads(line) for line in lines)
    return found


def export(session: requests.Session, url: str, params=None, json=None, headers=None) -> tuple[dict, dict]:
    """Runs a whole export; returns (manifest, resources by type)."""
    response = kick_off(session, url, params, json, headers)
    assert response.status_code == 202, response.text
    done = poll(session, response.headers["Content-Location"])
    assert done.status_code == 200, done.text
    manifest = done.json()
    return manifest, download(session, manifest)
