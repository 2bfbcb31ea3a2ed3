"""The guard, cell by cell: every route of the access table (guard_table.py) x every token kind, over HTTP
against the live server, is allowed, filtered, denied (403) or hidden (404) as the table says; a denied
write changes nothing. And the table covers every route of the app, so a new route cannot skip the guard."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.api.guard_table import (ALLOWED, DENIED, FILTERED, HIDDEN, KINDS, NOT_DATA, PUBLIC, REJECTED, ROUTES,
                                   TOKENS, Case, World)
from tests.conftest import FhirClient
from tests.factories import medication_request, patient

DATA_PREFIXES = ("/fhir", "/cds-services")
_ANY = re.compile(r"<any\([^)]*\):(\w+)>")


def _rule(text: str) -> str:
    """`/fhir/<any(Patient, ...):resource_type>/<id>` -> `/fhir/<resource_type>/<id>`."""
    return _ANY.sub(r"<\1>", text)


@pytest.fixture
def world(client, unique) -> World:
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
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
        return session.request(case.method, url, params=case.params(world) if case.params else None,
                               json=case.json(world) if case.json else None,
                               data=case.data(world) if case.data else None,
                               headers=case.headers(world) if case.headers else None)


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
        assert status == {DENIED: case.denied, HIDDEN: case.hidden, REJECTED: 400}[expected], \
            f"{status}: {response.text[:500]}"
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
