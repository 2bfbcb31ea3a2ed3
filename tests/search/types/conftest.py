"""Fixtures of the search type tests: the live server's services (registry, base URL) and a client."""

from __future__ import annotations

import pytest


@pytest.fixture
def services(live_server):
    return live_server.app.extensions["fhir.services"]


@pytest.fixture
def subjects(client, unique) -> list[str]:
    """Two Patients for the clinical resources to refer to."""
    return [
        client.create({"resourceType": "Patient", "identifier": [{"system": "urn:parity", "value": f"{unique}-{n}"}]})[
            "id"
        ]
        for n in range(2)
    ]
