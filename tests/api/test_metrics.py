"""GET /metrics on the real server (2 granian workers): Prometheus text, every worker's requests counted (the
multiprocess mode adds them up), route templates as labels, operators only."""

from __future__ import annotations

import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.server_process import start_server, token_for

METRICS_TOKEN = "operators-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server(database_url):
    server = start_server(database_url, workers=2, threads=2, env={"FHIR_METRICS_TOKEN": METRICS_TOKEN})
    try:
        yield server
    finally:
        server.terminate()
        server.kill_everything()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(server) -> requests.Response:
    return requests.get(f"{server.root_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=15)


def test_metrics_count_every_workers_requests_by_interaction_type_and_status(server):
    token = token_for(server)
    auth = {"Authorization": f"Bearer {token}"}
    mrn, family = uuid.uuid4().hex, "Metricsfamily" + uuid.uuid4().hex[:6]
    created = requests.post(
        f"{server.base_url}/Patient", json=factories.patient(mrn=mrn, family=family), headers=auth, timeout=15
    )
    assert created.status_code == 201
    id = created.json()["id"]
    reads = 12
    for _ in range(reads):  # a new connection each: granian spreads them over both workers
        assert requests.get(f"{server.base_url}/Patient/{id}", headers=auth, timeout=15).status_code == 200
    assert (
        requests.get(f"{server.base_url}/Patient", params={"family": family}, headers=auth, timeout=15).status_code
        == 200
    )
    assert requests.get(f"{server.base_url}/Patient/{uuid.uuid4().hex}", headers=auth, timeout=15).status_code == 404

    response = scrape(server)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    values = samples(response.text)

    def count(interaction, type_, status):
        key = ("fhir_http_requests_total", (("interaction", interaction), ("status", status), ("type", type_)))
        return values.get(key, 0)

    assert count("read", "Patient", "200") == reads
    assert count("create", "Patient", "201") == 1
    assert count("search-type", "Patient", "200") == 1
    assert count("read", "Patient", "404") == 1
    timed = ("fhir_http_request_duration_seconds_count", (("interaction", "read"), ("type", "Patient")))
    assert values[timed] == reads + 1  # the 404 read too
    assert ("fhir_db_pool_connections", ()) in values
    assert ("fhir_db_pool_connections_in_use", ()) in values
    assert ("fhir_db_pool_requests_waiting", ()) in values
    label_values = {value for _, labels in values for _, value in labels}
    assert not any(secret in value for value in label_values for secret in (id, mrn, family)), label_values


def test_metrics_need_the_operators_token(server):
    assert requests.get(f"{server.root_url}/metrics", timeout=15).status_code == 401
    wrong = requests.get(f"{server.root_url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=15)
    assert wrong.status_code == 401
    assert wrong.json()["resourceType"] == "OperationOutcome"
    assert "WWW-Authenticate" in wrong.headers


def test_metrics_without_a_token_answer_only_on_loopback(live_server):
    app = live_server.app
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 403
