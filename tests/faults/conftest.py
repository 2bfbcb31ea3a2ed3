"""The real server (`fhir-server serve`, granian) for the HTTP edge's fault tests: small limits so they run fast."""

from __future__ import annotations

import socket
import time

import pytest

from tests.server_process import start_server, token_for

BODY_LIMIT = 1024 * 1024
BODY_TIMEOUT = 3
APP_THREADS = 2


@pytest.fixture(scope="module")
def edge_server(database_url):
    server = start_server(
        database_url,
        workers=1,
        threads=APP_THREADS,
        env={
            "FHIR_MAX_BODY_BYTES": str(BODY_LIMIT),
            "FHIR_BODY_TIMEOUT": str(BODY_TIMEOUT),
            "FHIR_HEADER_TIMEOUT": str(BODY_TIMEOUT),
        },
    )
    try:
        yield server
    finally:
        server.terminate()
        server.kill_everything()


@pytest.fixture(scope="module")
def edge_token(edge_server) -> str:
    return token_for(edge_server)


def raw_exchange(port: int, request: bytes, timeout: float = 10) -> tuple[int, bytes]:
    """Send bytes as they are; the status code and the whole answer (read until the server closes or goes quiet)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_answer(sock, timeout)


def read_answer(sock: socket.socket, timeout: float) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = [
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        ]
        if length and len(body) >= length[0]:
            break
    assert data.startswith(b"HTTP/1."), data[:200]
    return int(data.split(b" ", 2)[1]), data
