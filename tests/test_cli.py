"""The `fhir-server` CLI contract (CONTRACT.md): each command reads the environment, exits 0 on success and
prints exactly one JSON object on stdout; logs go to stderr only.

The commands run as real subprocesses (the venv's console script) against the session's test database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests

from server.config import Settings

FHIR_SERVER = Path(sys.executable).parent / "fhir-server"
MIGRATIONS = sorted(path.name for path in Settings.from_env(env={}).migrations_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `fhir-server ARGS` with exactly this environment (plus PATH/HOME), stdout and stderr apart."""
    full_env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL") if key in os.environ}
    full_env.update(env)
    return subprocess.run(
        [str(FHIR_SERVER), *args], env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def one_json_object(result: subprocess.CompletedProcess) -> dict:
    """stdout of a successful command: one JSON object and nothing else (the whole of stdout parses)."""
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    try:
        value = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        pytest.fail(f"stdout is not exactly one JSON document ({error}):\n{result.stdout!r}\nstderr:\n{result.stderr}")
    assert isinstance(value, dict), f"stdout is JSON but not an object: {result.stdout!r}"
    return value


def assert_stderr_is_logs_only(result: subprocess.CompletedProcess) -> None:
    """Logs are JSON lines on stderr (server/logs.py); nothing on stderr is the command's answer."""
    for line in result.stderr.splitlines():
        if line.strip():
            entry = json.loads(line)
            assert {"level", "logger", "message"} <= entry.keys(), line
            assert "access_token" not in line, "a token leaked into the logs"


def test_help_lists_serve_migrate_and_token():
    result = run_cli("--help", env={})
    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate", "token"):
        assert command in result.stdout, result.stdout


def test_migrate_on_an_empty_database_applies_every_migration_then_nothing(fresh_database_url):
    env = {"DATABASE_URL": fresh_database_url}
    assert MIGRATIONS, "no migration files found"

    first = run_cli("migrate", env=env)
    assert one_json_object(first) == {"applied": MIGRATIONS}
    assert_stderr_is_logs_only(first)
    with psycopg.connect(fresh_database_url) as conn:
        recorded = [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
    assert recorded == MIGRATIONS

    second = run_cli("migrate", env=env)
    assert one_json_object(second) == {"applied": []}
    assert_stderr_is_logs_only(second)


def test_migrate_on_the_migrated_session_database_applies_nothing(database_url):
    result = run_cli("migrate", env={"DATABASE_URL": database_url})
    assert one_json_object(result) == {"applied": []}
    assert_stderr_is_logs_only(result)


def test_token_prints_a_patient_scoped_token_response(database_url):
    result = run_cli(
        "token",
        "--scope",
        "patient/*.rs",
        "--patient",
        "123",
        env={"DATABASE_URL": database_url, "FHIR_BASE_URL": "http://127.0.0.1:9/fhir"},
    )
    body = one_json_object(result)
    assert_stderr_is_logs_only(result)
    assert set(body) >= {"access_token", "token_type", "expires_in", "scope", "patient"}
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2  # a compact JWT
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "patient/*.rs"
    assert body["patient"] == "123"


def test_cli_token_is_accepted_by_the_server_whose_base_url_it_names(database_url, live_server):
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    token = one_json_object(run_cli("token", "--scope", "system/*.cruds", env=env))["access_token"]

    response = requests.get(
        f"{live_server.base_url}/Patient",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["resourceType"] == "Bundle"


def test_cli_patient_token_is_accepted_for_its_patient_scope(database_url, live_server):
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    token = one_json_object(run_cli("token", "--scope", "patient/*.rs", "--patient", "123", env=env))["access_token"]

    response = requests.get(
        f"{live_server.base_url}/Patient",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["resourceType"] == "Bundle"


def test_cli_token_for_another_base_url_is_refused_with_401(database_url, live_server):
    other = live_server.base_url.replace("127.0.0.1", "localhost")
    assert other != live_server.base_url
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": other}
    token = one_json_object(run_cli("token", "--scope", "system/*.cruds", env=env))["access_token"]

    response = requests.get(
        f"{live_server.base_url}/Patient",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"},
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"
