"""fhir-server reindex: recomputes every index row from the stored JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.api.search.helpers import found
from tests.factories import patient

CLI = str(Path(sys.executable).parent / "fhir-server")


def test_reindex_restores_deleted_index_rows(client, database_url, live_server, unique):
    created = client.create(patient(unique, birthDate="1975-05-05"))["id"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        seq = conn.execute(
            "SELECT seq FROM resources WHERE resource_type = 'Patient' AND id = %s", (created,)
        ).fetchone()[0]
        for table in ("search_token", "search_date", "search_string"):
            conn.execute(f"DELETE FROM {table} WHERE resource_seq = %s", (seq,))
    assert found(client, "Patient", identifier=unique) == []
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    result = subprocess.run(
        [CLI, "reindex", "--batch-size", "50"], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["reindexed"] >= 1
    assert "reindex" in result.stderr  # the progress bar
    assert found(client, "Patient", identifier=unique, birthdate="1975") == [created]


def test_a_reindex_run_is_audited_once_with_the_system_actor_types_and_count(
    client, client_with, database_url, live_server, unique
):
    client.create(patient(unique))
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    result = subprocess.run([CLI, "reindex"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)["reindexed"]
    auditor = client_with("system/AuditEvent.rs")
    events = [
        e["resource"]
        for e in auditor.get("AuditEvent", params={"subtype": "reindex", "_sort": "-date", "_count": 1}).json()["entry"]
    ]
    [event] = events
    assert event["outcome"] == "0" and event["action"] == "E"
    assert event["agent"][0]["who"] == {"display": "fhir-server command line"}
    [job] = [e for e in event["entity"] if e.get("role", {}).get("code") == "20"]
    counts = {d["type"]: int(d["valueString"]) for d in job["detail"]}
    assert counts["Patient"] >= 1 and sum(counts.values()) == done
    assert str(done) in event["outcomeDesc"]
