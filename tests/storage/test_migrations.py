"""Migrations that change how index rows are laid out keep an existing database's data searchable:
after them, a database holds the rows that a write with the current code makes (up to what the old
rows cannot tell)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime

import orjson
import psycopg

from server.config import Settings
from server.interactions.capabilities import IMPLEMENTED_INTERACTIONS
from server.search.extract import index_rows
from server.search.registry import Registry
from server.storage.migrate import apply_migrations
from tests.factories import patient

SETTINGS = Settings.from_env(env={})
REGISTRY = Registry.load(SETTINGS.resources_dir, IMPLEMENTED_INTERACTIONS)
BASE_URL = "http://example.org/fhir"
PATIENT = {
    **patient(
        "m-1",
        name=[{"family": "Rivera", "given": ["Ana", "Rivera"], "prefix": ["Dr."]}, {"text": "Ana R."}],
        address=[{"line": ["1 Main St"], "city": "Salem", "state": "MA", "postalCode": "01970", "country": "US"}],
    ),
    "id": "p1",
}


def _string_rows_before_0005(rows: list[tuple]) -> list[tuple]:
    """The string rows the code before migration 0005 wrote: every parameter its own rows, no part."""
    definition = REGISTRY.get("Patient")
    old = []
    for param, normalized, exact, part in rows:
        old.append((param, normalized, exact))
        for other in definition.params.values():
            if other.stored_as == param and other.part in (None, part):
                old.append((other.name, normalized, exact))
    return list(dict.fromkeys(old))


def _migrations_up_to(tmp_path, last: int):
    for path in SETTINGS.migrations_dir.glob("*.sql"):
        if int(path.name[:4]) <= last:
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_migration_0005_turns_old_string_rows_into_the_rows_the_code_writes_now(fresh_database_url, tmp_path):
    apply_migrations(fresh_database_url, _migrations_up_to(tmp_path, 4))
    new_rows = index_rows(REGISTRY.get("Patient"), PATIENT, BASE_URL)["string"]
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        seq = conn.execute(
            "INSERT INTO resources (resource_type, id, version_id, last_updated, patient_id, content)"
            " VALUES ('Patient', 'p1', 1, %s, 'p1', %s) RETURNING seq",
            (datetime.now(UTC), orjson.dumps(PATIENT).decode()),
        ).fetchone()[0]
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_string (resource_seq, resource_type, param, normalized, exact, patient_id)"
                " VALUES (%s, 'Patient', %s, %s, %s, 'p1')",
                [(seq, *row) for row in _string_rows_before_0005(new_rows)],
            )

    apply_migrations(fresh_database_url, SETTINGS.migrations_dir)

    with psycopg.connect(fresh_database_url) as conn:
        stored = conn.execute(
            "SELECT param, normalized, exact, part FROM search_string WHERE resource_seq = %s", (seq,)
        ).fetchall()
    # parts that no parameter searches by (a name's prefix, an address's line) cannot be told
    # from old rows, and stay NULL; they select nothing
    searched = {(p.stored_as, p.part) for p in REGISTRY.get("Patient").params.values() if p.part}
    expected = [
        (param, normalized, exact, part if (param, part) in searched else None)
        for param, normalized, exact, part in new_rows
    ]
    assert sorted(stored, key=repr) == sorted(dict.fromkeys(expected), key=repr)


def test_migration_0005_lists_the_parameters_the_registry_stores_as_parts_of_others():
    text = (SETTINGS.migrations_dir / "0005_fewer_index_rows.sql").read_text()
    listed = set(re.findall(r"\('(\w+)', '([\w-]+)', '(\w+)', (?:'(\w+)'|NULL)\)", text))
    # types added after 0005 (Practitioner) had no rows to rewrite; their rows are written in the new shape
    types_then = {resource_type for resource_type, *_ in listed}
    derived = {
        (definition.type, param.name, param.stored_as, param.part or "")
        for definition in REGISTRY.definitions.values()
        for param in definition.params.values()
        if param.stored_as and definition.type in types_then
    }
    assert derived and listed == derived


def test_migration_0014_moves_audit_events_into_their_table_with_the_keys_the_code_writes_now(
    fresh_database_url, tmp_path
):
    from server.audit.events import audit_event
    from server.audit.rows import audit_event_rows
    from server.auth.policy import AccessPolicy
    from server.interactions.audit import Access
    from server.storage import audit_events

    apply_migrations(fresh_database_url, _migrations_up_to(tmp_path, 13))
    access = Access("read", None, "Patient", [("Patient", "p1")], {"p1"}, 200, request_id="r-1", address="10.0.0.9")
    access.policy = AccessPolicy((), fhir_user="Practitioner/d1", subject="u1", client_id="app")
    event = {**audit_event(access, BASE_URL), "id": "e1"}
    rows = audit_event_rows(event)
    assert rows is not None and rows["reference"] and rows["token"] and rows["uri"]
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        seq = conn.execute(
            "INSERT INTO resources (resource_type, id, version_id, last_updated, content)"
            " VALUES ('AuditEvent', 'e1', 1, %s, %s) RETURNING seq",
            (access.recorded, orjson.dumps(event).decode()),
        ).fetchone()[0]
        for table, columns, values in (
            ("search_token", "param, system, code", rows["token"]),
            ("search_reference", "param, target_type, target_id", rows["reference"]),
            ("search_uri", "param, value", rows["uri"]),
            ("search_date", "param, low, high", rows["date"]),
        ):
            with conn.cursor() as cursor:
                placeholders = ", ".join(["%s"] * len(columns.split(",")))
                cursor.executemany(
                    f"INSERT INTO {table} (resource_seq, resource_type, {columns})"
                    f" VALUES (%s, 'AuditEvent', {placeholders})",
                    [(seq, *row) for row in values],
                )

    apply_migrations(fresh_database_url, SETTINGS.migrations_dir)

    with psycopg.connect(fresh_database_url) as conn:
        moved = conn.execute("SELECT seq, id, recorded, keys, content FROM audit_events").fetchall()
        left = conn.execute(
            "SELECT (SELECT count(*) FROM resources WHERE resource_type = 'AuditEvent')"
            " + (SELECT count(*) FROM search_token WHERE resource_type = 'AuditEvent')"
            " + (SELECT count(*) FROM search_reference WHERE resource_type = 'AuditEvent')"
        ).fetchone()[0]
    assert left == 0
    # 0015 keeps the content as text (jsonb's own rendering of it): the same JSON
    assert [(s, i, k, orjson.loads(c)) for s, i, _, k, c in moved] == [(seq, "e1", audit_events.keys(rows), event)]
    assert moved[0][2] == audit_events.recorded(rows, access.recorded)
