"""The CapabilityStatement says what the server does (R4 capabilitystatement.html), checked against behaviour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from server.fhir.outcomes import BadRequest
from server.search.query import SearchParser
from tests.factories import patient


@pytest.fixture(scope="module")
def statement(live_server) -> dict:
    return requests.get(f"{live_server.base_url}/metadata").json()


def _declared(statement: dict) -> dict[str, dict]:
    return {r["type"]: r for r in statement["rest"][0]["resource"]}


def _accepted(registry, resource_type: str, name: str, value: str) -> bool:
    parser = SearchParser(registry.get(resource_type), "http://x/fhir", 20, 1000, registry)
    try:
        parser.parse([(name, value)], strict=True)
        return True
    except BadRequest:
        return False


def _candidates(registry) -> set[str]:
    """Every Type:param and Type:param:Target a client could try, reference parameters or not."""
    values = {"*"}
    for source in registry.types:
        for param in registry.get(source).params.values():
            values.add(f"{source}:{param.name}")
            values.update(f"{source}:{param.name}:{target}" for target in registry.types)
    return values


@pytest.mark.parametrize("name, key", [("_include", "searchInclude"), ("_revinclude", "searchRevInclude")])
def test_every_include_accepted_is_declared_and_every_declared_one_accepted(live_server, statement, name, key):
    registry = live_server.app.extensions["fhir.services"].registry
    candidates = _candidates(registry)
    declared_types = _declared(statement)
    for resource_type in registry.types:  # the stored types (the read-only conformance ones search in memory)
        declared = declared_types[resource_type]
        accepted = {value for value in candidates if _accepted(registry, resource_type, name, value)}
        assert accepted == set(declared[key]), resource_type
        assert len(accepted) > 1 or resource_type not in ("MedicationRequest", "Patient"), resource_type


def test_declared_includes_work_over_http(client, statement):
    resource = _declared(statement)["MedicationRequest"]
    assert "MedicationRequest:subject" in resource["searchInclude"]
    assert "MedicationRequest:subject:Patient" in resource["searchInclude"]
    for value in resource["searchInclude"]:
        assert client.get("MedicationRequest", params={"_include": value, "_count": 1}).status_code == 200, value
    for value in _declared(statement)["Patient"]["searchRevInclude"]:
        assert client.get("Patient", params={"_revinclude": value, "_count": 1}).status_code == 200, value
    refused = client.get("MedicationRequest", params={"_include": "MedicationRequest:status"})
    assert refused.status_code == 400


def test_conditional_read_is_declared_and_both_headers_work(client, live_server, statement, unique):
    stored = live_server.app.extensions["fhir.services"].registry.types
    assert {_declared(statement)[t]["conditionalRead"] for t in stored} == {"full-support"}
    created = client.create(patient(unique))
    url = f"Patient/{created['id']}"
    assert client.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"0"'}).status_code == 200
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=1), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": later}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    # RFC 9110 13.1.3: If-None-Match decides when both are sent
    assert client.get(url, headers={"If-None-Match": 'W/"0"', "If-Modified-Since": later}).status_code == 200


def test_system_search_parameters_are_declared_and_accepted(client, statement):
    rest = statement["rest"][0]
    assert "search-system" in {i["code"] for i in rest["interaction"]}
    declared = {p["name"]: p["type"] for p in rest["searchParam"]}
    assert {"_id": "token", "_lastUpdated": "date"}.items() <= declared.items()
    samples = {
        "token": "x",
        "date": "ge2000-01-01",
        "uri": "http://example.org/p",
        "string": "x",
        "reference": "Patient/x",
    }
    for name, kind in declared.items():
        response = client.get("", params={name: samples[kind]}, headers={"Prefer": "handling=strict"})
        assert response.status_code == 200, (name, response.text)
    type_only = client.get("", params={"birthdate": "2000"}, headers={"Prefer": "handling=strict"})
    assert type_only.status_code == 400
    assert "birthdate" not in declared
