"""Export servers with their own settings, sharing the session's database and queue."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import FhirClient, LiveServer


@pytest.fixture
def since() -> str:
    """An instant just before the test's own writes: a `_since` that leaves out every other test's data."""
    moment = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    time.sleep(0.01)
    return moment


@pytest.fixture
def server_with(settings):
    """Factory: a live server with some settings changed (its export worker shares the queue)."""
    servers = []

    def make(**changes) -> LiveServer:
        server = LiveServer(dataclasses.replace(settings, **changes))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def session(server: LiveServer, scope: str = "system/*.rs", client_id: str = "tests", **claims) -> FhirClient:
    token = server.tokens.mint(scope, 3600, subject="test", client_id=client_id, **claims)["access_token"]
    return FhirClient(server.base_url, token)
