"""Writers of one resource are serialized: every version number is used exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import FhirClient
from tests.factories import patient


def _put_many(live_server, path: str, body: dict, times: int) -> list:
    token = live_server.token("system/*.cruds")

    def put(_):
        with FhirClient(live_server.base_url, token) as session:
            return session.put(path, json=body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(put, range(times)))


def test_concurrent_updates_produce_consecutive_versions(client, live_server, unique):
    created = client.create(patient(unique))
    responses = _put_many(live_server, f"Patient/{created['id']}", created, 16)
    assert [r.status_code for r in responses] == [200] * 16
    versions = sorted(int(r.json()["meta"]["versionId"]) for r in responses)
    assert versions == list(range(2, 18))
    assert client.get(f"Patient/{created['id']}/_history").json()["total"] == 17


def test_concurrent_update_as_create_creates_once(client, live_server, unique):
    responses = _put_many(live_server, f"Patient/{unique}", {**patient(unique), "id": unique}, 8)
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert client.get(f"Patient/{unique}").json()["meta"]["versionId"] == "8"


def _opposite_transactions(client, live_server, unique, entry) -> tuple[list, list[dict]]:
    """2 x 6 transactions, each writing the same two Patients, half of them in the opposite order."""
    first, second = client.create(patient(unique + "a")), client.create(patient(unique + "b"))
    token = live_server.token("system/*.cruds")

    def post(i):
        order = (first, second) if i % 2 else (second, first)
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry(r) for r in order]}
        with FhirClient(live_server.base_url, token) as session:
            return session.post(live_server.base_url, json=bundle)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(post, range(12))), [first, second]


def _assert_all_applied(client, responses, patients) -> None:
    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses if r.status_code != 200]
    for created in patients:
        assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "13"


def test_transactions_updating_the_same_resources_in_opposite_orders_all_succeed(client, live_server, unique):
    """Resources named by id are locked up front in one order: no deadlock to begin with."""
    responses, patients = _opposite_transactions(
        client,
        live_server,
        unique,
        lambda r: {"resource": r, "request": {"method": "PUT", "url": f"Patient/{r['id']}"}},
    )
    _assert_all_applied(client, responses, patients)


def test_conditional_updates_in_opposite_orders_are_retried_after_a_deadlock(client, live_server, unique):
    """Conditional entries find their resources only as they run, so two transactions can deadlock;
    PostgreSQL aborts one, which wrote nothing, and the server runs it again."""
    responses, patients = _opposite_transactions(
        client,
        live_server,
        unique,
        lambda r: {
            "resource": {k: v for k, v in r.items() if k not in ("id", "meta")},
            "request": {
                "method": "PUT",
                "url": f"Patient?identifier={r['identifier'][0]['system']}|{r['identifier'][0]['value']}",
            },
        },
    )
    _assert_all_applied(client, responses, patients)
