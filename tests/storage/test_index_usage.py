"""Every search is an index lookup: with 100k resources loaded, representative searches of every
parameter type, chains and _has are planned without a sequential scan of any resource or index table."""

from __future__ import annotations

import dataclasses
import os
import secrets

import psycopg
import pytest
from psycopg import sql

from server import build_services
from server.search.query import SearchParser
from server.storage.database import Database
from server.storage.migrate import apply_migrations
from server.storage.search import page_query
from tests import synthetic
from tests.conftest import _with_database

RESOURCES = 100_000
BASE = "http://127.0.0.1:8080/fhir"
UNIQUE_FAMILY = "Zyxwvutsrq"


@pytest.fixture(scope="module")
def big(server_url, settings):
    name = f"fhir_big_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(server_url, name)
    apply_migrations(url, settings.migrations_dir)
    database = Database(url, pool_size=2)
    database.open()
    services = build_services(dataclasses.replace(settings, database_url=url, base_url=BASE), database)
    try:
        assert synthetic.load(services, RESOURCES) >= RESOURCES - 20
        with database.connection() as conn:
            conn.execute("ANALYZE")
            first_patient = conn.execute(
                "SELECT id FROM resources WHERE resource_type = 'Patient' ORDER BY seq LIMIT 1"
            ).fetchone()[0]
        yield services, first_patient
    finally:
        database.close()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _plan(services, resource_type: str, query: str) -> dict:
    definition = services.registry.get(resource_type)
    pairs = [tuple(part.split("=", 1)) for part in query.split("&")]
    parsed = SearchParser(definition, BASE, 20, 1000, services.registry).parse(pairs, strict=True)
    statement, args = page_query(parsed.plan)
    with services.database.connection() as conn:
        return conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(statement), args).fetchone()[0][0]["Plan"]


def _sequential_scans(services, resource_type: str, query: str) -> list[str]:
    plan = _plan(services, resource_type, query)
    return [node.get("Relation Name", "?") for node in _plan_nodes(plan) if node["Node Type"] == "Seq Scan"]


SEARCHES = [
    ("Patient", "identifier=http://hospital.example/mrn|MRN00004242"),  # token
    ("Patient", "_id={patient}"),  # _id
    ("Patient", f"family={UNIQUE_FAMILY[:6]}"),  # string, starts-with
    ("Patient", f"family:exact={UNIQUE_FAMILY}"),  # string, exact
    ("Patient", f"name:contains={UNIQUE_FAMILY[2:8].lower()}"),  # string, contains
    ("Patient", "birthdate=1961-07-04"),  # date
    ("MedicationRequest", "patient={patient}&status=active"),  # reference + token
    ("MedicationRequest", "authoredon=ge2026-06-01&authoredon=lt2026-06-02"),  # date range
    ("MedicationRequest", "patient=Patient/{patient}&intent=order&status=active,on-hold"),
    ("Condition", "subject=Patient/{patient}&clinical-status=active"),
    ("Condition", "onset-age=79|http://unitsofmeasure.org|a&recorded-date=2022-02-02"),  # quantity
    ("Appointment", "actor=Patient/{patient}&date=ge2021-01-01"),
    ("MedicationStatement", "patient={patient}&effective=2022"),
    ("Patient", "_source=http://ehr.example/feeds/42"),  # uri
    ("Patient", "_lastUpdated=gt2999-01-01"),  # _lastUpdated column
    ("MedicationRequest", "patient.identifier=http://hospital.example/mrn|MRN00004242"),  # chain
    ("MedicationRequest", f"subject:Patient.family={UNIQUE_FAMILY}"),  # chain to a string
    ("Patient", "_has:MedicationRequest:patient:authoredon=2023-02-03&birthdate=1961-07-04"),  # _has
]


@pytest.mark.parametrize("resource_type, query", SEARCHES)
def test_search_uses_indexes_only(big, resource_type, query):
    services, patient = big
    assert _sequential_scans(services, resource_type, query.format(patient=patient)) == []


def test_date_equality_scans_only_its_range_of_the_date_index(big):
    """birthdate=1961-07-04 reads the index entries of that day, not every later birthdate: the
    scan on (param, low) is bounded on both sides, so its cost does not grow with the table."""
    services, _ = big
    parsed = SearchParser(services.registry.get("Patient"), BASE, 20, 1000, services.registry).parse(
        [("birthdate", "1961-07-04")], strict=True
    )
    statement, args = page_query(parsed.plan)
    with services.database.connection() as conn:
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}").format(statement), args).fetchone()[
            0
        ][0]["Plan"]
    date_scans = [node for node in _plan_nodes(plan) if node.get("Relation Name") == "search_date"]
    assert date_scans, plan
    for node in date_scans:
        condition = node.get("Index Cond", "")
        assert "low >=" in condition and "low <=" in condition, node
        assert node["Shared Hit Blocks"] + node["Shared Read Blocks"] <= 10, node


def test_contains_reads_the_trigram_index(big):
    """`:contains` finds its rows through the trigram index (a partial one: token :text rows are
    not in it), not by reading every row of the parameter in the starts-with index."""
    services, _ = big
    plan = _plan(services, "Patient", f"name:contains={UNIQUE_FAMILY[2:8].lower()}")
    assert "search_string_contains_idx" in {node.get("Index Name") for node in _plan_nodes(plan)}, plan


AUDIT_EVENTS = 50_000


@pytest.fixture(scope="module")
def audited(big):
    """The big database with AuditEvents of 5,000 patients (10 each) and one client, as the trail stores them.
    Their content is as long as a real event's own part: the planner weighs a scan by the table's size."""
    from datetime import UTC, datetime, timedelta

    from server.storage import audit_events

    services, _ = big
    now = datetime.now(UTC)
    rows, shapes = [], []
    content = '{"resourceType":"AuditEvent","text":"' + "x" * 600 + '"}'  # as long as a read's own part
    shared = audit_events.key_set(
        {"token": [("outcome", None, "0"), ("type", "http://t.example", "rest"), ("agent:identifier", "c", "app")]}
    )
    for i in range(AUDIT_EVENTS):
        recorded = now - timedelta(seconds=i)
        own = {"reference": [("patient", "Patient", f"ap{i % 5000}"), ("entity", "Patient", f"ap{i % 5000}")]}
        encoded = audit_events.encoded(shared, own, recorded, ',"source":{"site":"x"}}')
        _, keys, shape = audit_events.row_values(None, encoded, None)
        rows.append((f"ae{i}", recorded, recorded, keys, content, shape.completes))
        shapes.append(shape)
    with services.database.transaction() as conn:
        audit_events.append(conn, rows, shapes)
    with services.database.connection() as conn:
        conn.execute("ANALYZE audit_events")
    return services


@pytest.mark.parametrize(
    "query", ["patient=ap17&_sort=-date", "entity=Patient/ap17", "patient=ap17&outcome=0", "patient=ap17&type=rest"]
)
def test_an_audit_search_by_patient_reads_the_keys_index_not_every_event(audited, query):
    """The planner takes a rare key (one patient's 10 events among 50,000) for a common one and would walk the
    date or seq index filtering every row; the search reads the GIN index first (storage/search._rows_of)."""
    plan = _plan(audited, "AuditEvent", query)
    assert "audit_events_keys_idx" in {node.get("Index Name") for node in _plan_nodes(plan)}, plan
    scans = [node for node in _plan_nodes(plan) if node["Node Type"] == "Seq Scan"]
    assert [node for node in scans if node.get("Relation Name") != "audit_shapes"] == [], plan  # shapes: a few rows
