"""Two faults from the go-live tests, kept in the suite: a storm of If-Match read-modify-write PUTs from many
threads loses no update (every 200 made exactly the next version, the others got 412); and hypothesis-generated
malformed bodies never get a 5xx and never store anything."""

from __future__ import annotations

import threading
import uuid

import orjson
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

pytestmark = pytest.mark.fault

THREADS = 8
TRIES_EACH = 5


def test_if_match_read_modify_write_storm_loses_no_update(client, live_server):
    patient = client.create(factories.patient(mrn=uuid.uuid4().hex))
    url = f"{live_server.base_url}/Patient/{patient['id']}"
    headers = dict(client.headers)
    won: list[tuple[str, str]] = []  # (version read, version written)
    outcomes: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        with requests.Session() as session:
            session.headers.update(headers)
            for attempt in range(TRIES_EACH):
                current = session.get(url, timeout=30).json()
                version = current["meta"]["versionId"]
                current["active"] = (n + attempt) % 2 == 0
                response = session.put(url, json=current, timeout=30, headers={"If-Match": f'W/"{version}"'})
                with lock:
                    outcomes.append(response.status_code)
                    if response.status_code == 200:
                        won.append((version, response.json()["meta"]["versionId"]))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(outcomes) <= {200, 412}, outcomes
    assert len(outcomes) == THREADS * TRIES_EACH
    assert all(int(written) == int(read) + 1 for read, written in won), won  # each success the very next version
    assert len({written for _, written in won}) == len(won)  # no version written twice
    final = client.get(f"Patient/{patient['id']}").json()["meta"]["versionId"]
    assert int(final) == 1 + len(won)  # every acknowledged update is a version: none lost


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_patientish = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "patient", "Observation", ""])},
    optional={
        "identifier": _json,
        "name": _json,
        "birthDate": _json,
        "gender": _json,
        "id": _json,
        "meta": _json,
        "active": _json,
    },
)
_bodies = st.one_of(_patientish.map(orjson.dumps), _json.map(orjson.dumps), st.binary(max_size=200))


@settings(max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(body=_bodies)
def test_malformed_bodies_get_a_4xx_outcome_and_store_nothing(live_server, body):
    auth = {"Authorization": f"Bearer {live_server.token('system/*.cruds')}"}

    def stored() -> int:
        return requests.get(
            f"{live_server.base_url}/Patient", params={"_summary": "count"}, headers=auth, timeout=30
        ).json()["total"]

    before = stored()
    response = requests.post(
        f"{live_server.base_url}/Patient",
        data=body,
        timeout=30,
        headers={**auth, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
        assert stored() == before
    else:  # a body that happens to be a valid Patient is created, as it should be
        assert response.status_code == 201 and response.json()["resourceType"] == "Patient"
        assert stored() == before + 1
