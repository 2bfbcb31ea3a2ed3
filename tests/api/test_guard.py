"""The guard, cell by cell: every route of the access table (guard_table.py) x every token kind, over HTTP
against the live server, is allowed, filtered, denied (403) or hidden (404) as the table says; a denied
write changes nothing. And the table covers every route of the app, so a new route cannot skip the guard."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.api.guard_table import (
    ALLOWED,
    DENIED,
    FILTERED,
    GRANULAR,
    HIDDEN,
    KINDS,
    NOT_DATA,
    PUBLIC,
    REJECTED,
    ROUTES,
    TOKENS,
    Case,
    World,
)
from tests.conftest import FhirClient
from tests.factories import medication_request, patient

DATA_PREFIXES = ("/fhir", "/cds-services")
_ANY = re.compile(r"<any\([^)]*\):(\w+)>")


def _rule(text: str) -> str:
    """`/fhir/<any(Patient, ...):resource_type>/<id>` -> `/fhir/<resource_type>/<id>`."""
    return _ANY.sub(r"<\1>", text)


@pytest.fixture
def world(client, unique) -> World:
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mine = client.create(patient(f"g-{unique}-a"))["id"]
    other = client.create(patient(f"g-{unique}-b"))["id"]
    my_mr = client.create(medication_request(mine))["id"]
    other_mr = client.create(medication_request(other, status="stopped"))["id"]
    return World(mine, other, my_mr, other_mr, since, unique)


def _send(live_server, case: Case, kind: str, world: World):
    token = TOKENS[kind](world)
    bearer = live_server.token(token[0], **token[1]) if token is not None else None
    path = case.path(world)
    url = f"{live_server.root_url}{path}" if path.startswith("/") else f"{live_server.base_url}/{path}".rstrip("/")
    with FhirClient(live_server.base_url, bearer) as session:
        return session.request(
            case.method,
            url,
            params=case.params(world) if case.params else None,
            json=case.json(world) if case.json else None,
            data=case.data(world) if case.data else None,
            headers=case.headers(world) if case.headers else None,
        )


def _other_unchanged(client, world: World) -> bool:
    """other's data is as the world wrote it: one MedicationRequest, version 1, stopped."""
    found = client.get("MedicationRequest", params={"subject": f"Patient/{world.other}"}).json()
    resources = [e["resource"] for e in found.get("entry", [])]
    return [(r["id"], r["meta"]["versionId"], r["status"]) for r in resources] == [(world.other_mr, "1", "stopped")]


CELLS = [pytest.param(case, kind, id=f"{case.name}|{kind}") for case in ROUTES for kind in KINDS]


@pytest.mark.parametrize("case,kind", CELLS)
def test_each_interaction_and_token_kind_gets_the_tables_outcome(live_server, client, world, case, kind):
    expected = case.expect[kind] if kind != "no-token" else (PUBLIC if case.expect["system"] == PUBLIC else None)
    response = _send(live_server, case, kind, world)
    status = response.status_code
    body = response.json() if response.content else {}
    if expected is None:
        assert status == 401, response.text
        assert _other_unchanged(client, world)
        return
    if case.status is not None and 200 <= status < 300:
        status = case.status(body)
    if expected in (ALLOWED, FILTERED, PUBLIC):
        assert 200 <= status < 300, f"{status}: {response.text[:500]}"
        if case.sees_other is not None and expected != PUBLIC:
            assert case.sees_other(body, world) == (expected == ALLOWED), response.text[:1000]
    else:
        assert status == {DENIED: case.denied, HIDDEN: case.hidden, REJECTED: 400}[expected], (
            f"{status}: {response.text[:500]}"
        )
    if expected != ALLOWED and case.method != "GET":
        assert _other_unchanged(client, world), f"{case.name} with a {kind} token changed other's data"


def test_every_case_names_every_token_kind_and_a_known_outcome():
    for case in ROUTES:
        assert set(case.expect) == set(KINDS[:-1]), case.name
        assert set(case.expect.values()) <= {ALLOWED, FILTERED, DENIED, HIDDEN, PUBLIC, REJECTED}, case.name


def test_every_route_of_the_app_is_in_the_access_table(live_server):
    """A route under /fhir or /cds-services (or serving data anywhere) that the table does not cover fails
    here: add it to tests/api/guard_table.py ROUTES, with its outcome per token kind."""
    covered = {(case.rule, case.method) for case in ROUTES}
    missing = []
    for rule in live_server.app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (_rule(rule.rule), method)
            if key in covered:
                continue
            if key[0].startswith(DATA_PREFIXES) or key not in NOT_DATA:
                missing.append(f"{method} {key[0]}")
    assert not missing, "routes the access table (tests/api/guard_table.py) does not cover: " + ", ".join(missing)


def test_the_access_table_names_only_routes_the_app_has(live_server):
    routes = {(_rule(rule.rule), method) for rule in live_server.app.url_map.iter_rules() for method in rule.methods}
    stale = [f"{case.method} {case.rule}" for case in ROUTES if (case.rule, case.method) not in routes]
    stale += [f"{method} {rule}" for rule, method in NOT_DATA if (rule, method) not in routes]
    assert not stale, "the access table names routes the app does not have: " + ", ".join(stale)
    assert not [rule for rule, _ in NOT_DATA if rule.startswith(DATA_PREFIXES)], "FHIR routes belong in ROUTES"


def test_mixed_patient_and_system_grants_are_searched_one_type_at_a_time(live_server, world):
    """patient/ on one type and system/ on another: a search over both would need two patient filters, so
    it is refused (403); history-system keeps to the unconfined type (the guard's search and history scopes)."""
    token = live_server.token("patient/MedicationRequest.rs system/Patient.rs", patient=world.mine)
    with FhirClient(live_server.base_url, token) as session:
        both = session.get("", params={"_type": "MedicationRequest,Patient"})
        assert both.status_code == 403, both.text
        requests_only = session.get("MedicationRequest", params={"_id": f"{world.my_mr},{world.other_mr}"})
        assert [e["resource"]["id"] for e in requests_only.json()["entry"]] == [world.my_mr]
        history = session.get("_history", params={"_since": world.since, "_count": 100})
        assert history.status_code == 200
        types = {e["resource"]["resourceType"] for e in history.json().get("entry", []) if "resource" in e}
        assert types == {"Patient"}


def test_a_granular_type_is_searched_alone(live_server, world):
    """A granular (v2 query) scope's criteria apply to its own type: a search across it and another type is 403."""
    with FhirClient(live_server.base_url, live_server.token(GRANULAR)) as session:
        assert session.get("", params={"_type": "MedicationRequest,Patient"}).status_code == 403
        alone = session.get("", params={"_type": "MedicationRequest", "_id": f"{world.my_mr},{world.other_mr}"})
        assert [e["resource"]["id"] for e in alone.json()["entry"]] == [world.my_mr]
