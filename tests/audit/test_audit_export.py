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
