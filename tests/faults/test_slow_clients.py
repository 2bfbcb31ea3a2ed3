"""Slow clients (OWASP API4) must not pin the app's threads: sockets that send a head and then trickle their
body, to POST /fhir/Patient and, without credentials, to POST /auth/token, while a normal GET /fhir/metadata
still answers at once; each trickler gets 408 once the body time bound (3 s here) is over."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.faults.conftest import APP_THREADS, BODY_TIMEOUT, read_answer

pytestmark = pytest.mark.fault

TRICKLERS = 4 * APP_THREADS  # twice as many of each kind as the server has app threads


def trickle(port: int, path: str, headers: str, results: list, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_TIMEOUT + 10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 10000\r\n\r\n".encode())
        started = time.monotonic()
        try:
            while not stop.is_set() and time.monotonic() - started < BODY_TIMEOUT + 5:
                sock.sendall(b" ")
                if stop.wait(0.3):
                    break
                sock.settimeout(0.01)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break  # the server answered
                except TimeoutError:
                    pass
                finally:
                    sock.settimeout(BODY_TIMEOUT + 10)
            status, _ = read_answer(sock, 10)
        except OSError as error:
            status = repr(error)
        results.append((status, time.monotonic() - started))


def test_trickling_bodies_do_not_stall_other_requests(edge_server, edge_token):
    results: list = []
    stop = threading.Event()
    kinds = [
        ("/fhir/Patient", f"Authorization: Bearer {edge_token}\r\nContent-Type: application/fhir+json\r\n"),
        ("/auth/token", "Content-Type: application/x-www-form-urlencoded\r\n"),
    ]
    clients = [
        threading.Thread(target=trickle, args=(edge_server.port, *kinds[i % 2], results, stop))
        for i in range(TRICKLERS)
    ]
    try:
        for client in clients:
            client.start()
        time.sleep(0.5)
        timings = []
        for _ in range(5):
            started = time.monotonic()
            response = requests.get(
                f"{edge_server.base_url}/metadata", timeout=5, headers={"Accept": "application/fhir+json"}
            )
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
            assert response.json()["resourceType"] == "CapabilityStatement"
        assert max(timings) < 1.0, timings
    finally:
        for client in clients:
            client.join(BODY_TIMEOUT + 15)
        stop.set()
    assert len(results) == TRICKLERS
    assert all(status == 408 for status, _ in results), results
    assert all(seconds < BODY_TIMEOUT + 2 for _, seconds in results), results
