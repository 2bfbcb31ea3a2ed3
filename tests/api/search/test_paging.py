"""Paging (R4 http.html#paging): next/previous links, keyset cursors, _sort; every match exactly once
even while others write."""

from __future__ import annotations

import threading

from server.auth.guard import Guard
from server.auth.policy import AccessPolicy
from server.auth.scopes import parse_scopes
from server.interactions.context import RequestContext
from server.interactions.write import create
from tests.api.search.helpers import ids
from tests.conftest import FhirClient
from tests.factories import medication_request, patient


def _link(bundle, relation):
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


def _walk(client, bundle):
    seen = ids(bundle)
    while (url := _link(bundle, "next")) is not None:
        bundle = client.get(url).json()
        seen += ids(bundle)
    return seen, bundle


def test_previous_link_walks_back(client, unique):
    created = [client.create(patient(unique))["id"] for _ in range(5)]
    first = client.get("Patient", params={"identifier": unique, "_count": 2}).json()
    assert _link(first, "previous") is None
    second = client.get(_link(first, "next")).json()
    back = client.get(_link(second, "previous")).json()
    assert ids(back) == ids(first) == created[:2]
    assert ids(second) == created[2:4]


def test_sort_by_several_keys_and_descending(client, unique):
    for family, given, birth in (
        ("B", "Zoe", "1990-01-01"),
        ("A", "Zoe", "1980-01-01"),
        ("A", "Zoe", "1970-01-01"),
        ("C", "Aa", "1960-01-01"),
    ):  # a given name never sorts by family
        client.create(patient(unique, family=family, name=[{"family": family, "given": [given]}], birthDate=birth))
    bundle = client.get("Patient", params={"identifier": unique, "_sort": "family,-birthdate", "_count": 3}).json()
    seen, _ = _walk(client, bundle)
    by_id = {
        e["resource"]["id"]: e["resource"] for e in client.get("Patient", params={"identifier": unique}).json()["entry"]
    }
    assert [(by_id[i]["name"][0]["family"], by_id[i]["birthDate"]) for i in seen] == [
        ("A", "1980-01-01"),
        ("A", "1970-01-01"),
        ("B", "1990-01-01"),
        ("C", "1960-01-01"),
    ]


def test_sort_puts_missing_values_last(client, unique):
    dated = client.create(patient(unique, birthDate="1999-01-01"))["id"]
    undated = client.create(
        {"resourceType": "Patient", "identifier": [{"system": "http://hospital.example/mrn", "value": unique}]}
    )["id"]
    for order in ("birthdate", "-birthdate"):
        assert ids(client.get("Patient", params={"identifier": unique, "_sort": order}).json()) == [dated, undated]


def test_sort_by_unknown_parameter_returns_400(client):
    assert client.get("Patient", params={"_sort": "shoe-size"}).status_code == 400


def test_tampered_cursor_returns_400(client):
    assert client.get("Patient", params={"_cursor": "not-a-cursor"}).status_code == 400


def test_paging_through_1000_matches_while_another_thread_writes(client, live_server, unique):
    subject = client.create(patient(unique))["id"]
    # the 1,000 matches are created through the interaction itself, faster than 1,000 HTTP requests
    services = live_server.app.extensions["fhir.services"]
    ctx = RequestContext(services, Guard(AccessPolicy(tuple(parse_scopes("system/*.cruds"))), services.base_url))
    expected = {create(ctx, "MedicationRequest", medication_request(subject)).id for _ in range(1000)}
    stop = threading.Event()

    def write_more():
        with FhirClient(live_server.base_url, live_server.token()) as writer:
            while not stop.is_set():
                writer.post("MedicationRequest", json=medication_request(subject))
                some = next(iter(expected))
                current = writer.get(f"MedicationRequest/{some}").json()
                writer.put(f"MedicationRequest/{some}", json={**current, "status": "on-hold"})

    thread = threading.Thread(target=write_more)
    thread.start()
    try:
        first = client.get("MedicationRequest", params={"patient": subject, "_count": 100}).json()
        seen, _ = _walk(client, first)
    finally:
        stop.set()
        thread.join()
    assert len(seen) == len(set(seen))  # nothing twice
    assert expected <= set(seen)  # nothing that matched from the start is missed
