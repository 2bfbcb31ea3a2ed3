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
