"""Bodies over the limit are 413 whatever their framing, and never stored; unknown Content-Encoding is 415,
gzip is decoded with the limit applied after decoding; an HTTP/1.1 request without Host is 400.
Against the real server (granian and the RSGI edge), with a 1 MiB limit."""

from __future__ import annotations

import gzip
import uuid

import orjson
import pytest
import requests

from tests import factories
from tests.faults.conftest import BODY_LIMIT, raw_exchange

pytestmark = pytest.mark.fault


@pytest.fixture
def post(edge_server, edge_token):
    def send(body, **headers) -> requests.Response:
        return requests.post(
            f"{edge_server.base_url}/Patient",
            data=body,
            timeout=30,
            headers={
                "Authorization": f"Bearer {edge_token}",
                "Content-Type": "application/fhir+json",
                "Accept": "application/fhir+json",
                **headers,
            },
        )

    return send


def stored(edge_server, edge_token, mrn: str) -> int:
    response = requests.get(
        f"{edge_server.base_url}/Patient",
        params={"identifier": f"{factories.MRN}|{mrn}"},
        headers={"Authorization": f"Bearer {edge_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return len(response.json().get("entry", []))


def patient_bytes(mrn: str) -> bytes:
    return orjson.dumps(factories.patient(mrn=mrn))


def assert_too_large(response: requests.Response) -> None:
    assert response.status_code == 413, response.text[:300]
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "too-costly"


def test_a_valid_patient_followed_by_spaces_over_the_limit_is_413_and_not_stored(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex
    assert_too_large(post(patient_bytes(mrn) + b" " * (3 * BODY_LIMIT)))
    assert stored(edge_server, edge_token, mrn) == 0


def test_a_chunked_body_over_the_limit_is_413_and_not_stored(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex

    def chunks():  # a generator body: requests sends it with Transfer-Encoding: chunked, no Content-Length
        yield patient_bytes(mrn)
        for _ in range(48):
            yield b" " * (64 * 1024)

    assert_too_large(post(chunks()))
    assert stored(edge_server, edge_token, mrn) == 0


def test_a_chunked_body_within_the_limit_is_stored(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex
    response = post(iter([patient_bytes(mrn), b" " * 1000, b"\n"]))
    assert response.status_code == 201, response.text
    assert stored(edge_server, edge_token, mrn) == 1


def test_a_declared_content_length_over_the_limit_is_413_before_the_body_is_read(edge_server, edge_token):
    status, answer = raw_exchange(
        edge_server.port,
        (
            f"POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {edge_token}\r\n"
            f"Content-Type: application/fhir+json\r\nContent-Length: {64 * BODY_LIMIT}\r\n\r\n"
        ).encode()
        + b"{" * 1000,
    )
    assert status == 413
    assert b'"too-costly"' in answer


def test_a_gzip_body_is_decoded(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex
    response = post(gzip.compress(patient_bytes(mrn)), **{"Content-Encoding": "gzip"})
    assert response.status_code == 201, response.text
    assert response.json()["identifier"][0]["value"] == mrn
    assert stored(edge_server, edge_token, mrn) == 1


def test_a_gzip_body_that_inflates_past_the_limit_is_413(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex
    bomb = gzip.compress(patient_bytes(mrn) + b" " * (8 * BODY_LIMIT))  # about 8 KiB on the wire
    assert len(bomb) < BODY_LIMIT / 10
    assert_too_large(post(bomb, **{"Content-Encoding": "gzip"}))
    assert stored(edge_server, edge_token, mrn) == 0


def test_a_body_that_is_not_gzip_but_says_so_is_400(post):
    response = post(patient_bytes("x"), **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unsupported_content_encoding_is_415(post, edge_server, edge_token):
    mrn = uuid.uuid4().hex
    response = post(patient_bytes(mrn), **{"Content-Encoding": "br"})
    assert response.status_code == 415
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert stored(edge_server, edge_token, mrn) == 0


def test_an_http_1_1_request_without_host_is_400(edge_server):
    status, answer = raw_exchange(
        edge_server.port, b"GET /fhir/metadata HTTP/1.1\r\nAccept: application/fhir+json\r\n\r\n"
    )
    assert status == 400
    assert b"Host" in answer and b"OperationOutcome" in answer


def test_an_http_1_0_request_without_host_is_served(edge_server):
    status, _ = raw_exchange(edge_server.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status == 200
