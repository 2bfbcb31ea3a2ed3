"""`fhir-server audit export --since INSTANT --out FILE`: the AuditEvents since then as NDJSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.factories import patient
from tests.test_cli import one_json_object, run_cli


def test_audit_export_writes_the_events_since_an_instant_as_ndjson(client, live_server, database_url, tmp_path, unique):
    since = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    created = client.create(patient(unique))["id"]
    client.get(f"Patient/{created}", headers={"X-Request-ID": f"export-{unique}"})
    live_server.app.extensions["fhir.services"].audit.flush()
    out = tmp_path / "audit.ndjson"
    result = run_cli(
        "audit",
        "export",
        "--since",
        since,
        "--out",
        str(out),
        env={"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url},
    )
    summary = one_json_object(result)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["exported"] == len(events) >= 2
    assert all(e["resourceType"] == "AuditEvent" and e["recorded"] >= since for e in events)
    assert [e["recorded"] for e in events] == sorted(e["recorded"] for e in events)
    references = {x.get("what", {}).get("reference") for e in events for x in e.get("entity", [])}
    assert f"Patient/{created}" in references
    assert "audit export" in result.stderr  # the progress bar


def test_an_audit_export_run_is_itself_audited_with_the_operator_and_the_count(
    client_with, live_server, database_url, tmp_path
):
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    live_server.app.extensions["fhir.services"].audit.flush()
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    summary = one_json_object(
        run_cli("audit", "export", "--since", since, "--out", str(tmp_path / "a.ndjson"), env=env)
    )
    auditor = client_with("system/AuditEvent.rs")
    found = auditor.get("AuditEvent", params={"subtype": "audit-export", "_sort": "-date", "_count": 1}).json()
    [event] = [e["resource"] for e in found["entry"]]
    assert event["outcome"] == "0" and event["action"] == "E"
    assert event["agent"][0]["who"] == {"display": "fhir-server command line"}
    [job] = [e for e in event["entity"] if e.get("role", {}).get("code") == "20"]
    assert {d["type"]: int(d["valueString"]) for d in job["detail"]} == {"AuditEvent": summary["exported"]}
    assert event["recorded"] >= since


def test_audit_export_refuses_a_malformed_instant(database_url, tmp_path):
    result = run_cli(
        "audit",
        "export",
        "--since",
        "yesterday",
        "--out",
        str(tmp_path / "x.ndjson"),
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode != 0
    assert "since" in result.stderr.lower()
