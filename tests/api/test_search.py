"""Search, first part (R4 search.html): _id, _lastUpdated, identifier, patient/subject, _count paging."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from tests.conftest import FhirClient, LiveServer
from tests.factories import MRN, condition, medication_request, patient


def _ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


def test_search_by_identifier_system_and_value(client, unique):
    created = client.create(patient(unique))
    client.create(patient(unique, identifier=[{"system": "http://other.example/ids", "value": unique}]))
    bundle = client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    assert _ids(bundle) == [created["id"]]
    assert bundle["entry"][0]["fullUrl"] == f"{client.base_url}/Patient/{created['id']}"


def test_search_by_identifier_value_alone_matches_any_system(client, unique):
    client.create(patient(unique))
    client.create(patient(unique, identifier=[{"system": "http://other.example/ids", "value": unique}]))
    assert client.get("Patient", params={"identifier": unique}).json()["total"] == 2


def test_search_by_identifier_with_empty_system_matches_only_values_without_system(client, unique):
    no_system = client.create(patient(unique, identifier=[{"value": unique}]))
    client.create(patient(unique))
    assert _ids(client.get("Patient", params={"identifier": f"|{unique}"}).json()) == [no_system["id"]]


def test_search_by_id_with_comma_means_or(client, unique):
    a = client.create(patient(unique))
    b = client.create(patient(unique))
    client.create(patient(unique))
    bundle = client.get("Patient", params={"_id": f"{a['id']},{b['id']}"}).json()
    assert sorted(_ids(bundle)) == sorted([a["id"], b["id"]])


def test_repeated_parameters_mean_and(client, unique):
    mine = client.create(patient(unique))
    client.create(patient(unique))
    bundle = client.get("Patient", params=[("identifier", unique), ("_id", mine["id"])]).json()
    assert _ids(bundle) == [mine["id"]]


def test_search_medication_requests_by_patient_in_every_reference_form(client, unique):
    subject = client.create(patient(unique))
    other = client.create(patient(unique))
    wanted = client.create(medication_request(subject["id"]))
    client.create(medication_request(other["id"]))
    for value in (subject["id"], f"Patient/{subject['id']}", f"{client.base_url}/Patient/{subject['id']}"):
        assert _ids(client.get("MedicationRequest", params={"patient": value}).json()) == [wanted["id"]], value
    assert _ids(client.get("MedicationRequest", params={"subject:Patient": subject["id"]}).json()) == [wanted["id"]]


def test_search_by_patient_and_status(client, unique):
    subject = client.create(patient(unique))
    active = client.create(medication_request(subject["id"], status="active"))
    client.create(medication_request(subject["id"], status="stopped"))
    bundle = client.get("MedicationRequest", params={"patient": subject["id"], "status": "active"}).json()
    assert _ids(bundle) == [active["id"]]


def test_token_not_modifier_excludes_the_code(client, unique):
    subject = client.create(patient(unique))
    client.create(medication_request(subject["id"], status="active"))
    stopped = client.create(medication_request(subject["id"], status="stopped"))
    bundle = client.get("MedicationRequest", params={"patient": subject["id"], "status:not": "active"}).json()
    assert _ids(bundle) == [stopped["id"]]


def test_search_conditions_by_subject(client, unique):
    subject = client.create(patient(unique))
    diagnosis = client.create(condition(subject["id"]))
    assert _ids(client.get("Condition", params={"subject": f"Patient/{subject['id']}"}).json()) == [diagnosis["id"]]
    assert _ids(client.get("Condition", params={"patient": subject["id"]}).json()) == [diagnosis["id"]]


def test_search_by_last_updated_with_prefixes(client, unique):
    created = client.create(patient(unique))
    stamp = datetime.fromisoformat(created["meta"]["lastUpdated"].replace("Z", "+00:00"))
    before = (stamp - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = (stamp + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = {"identifier": unique}
    assert client.get("Patient", params={**query, "_lastUpdated": f"gt{before}"}).json()["total"] == 1
    assert client.get("Patient", params={**query, "_lastUpdated": f"ge{before}"}).json()["total"] == 1
    assert client.get("Patient", params={**query, "_lastUpdated": f"lt{before}"}).json()["total"] == 0
    assert client.get("Patient", params={**query, "_lastUpdated": f"lt{after}"}).json()["total"] == 1
    assert client.get("Patient", params={**query, "_lastUpdated": f"gt{after}"}).json()["total"] == 0
    assert client.get("Patient", params={**query, "_lastUpdated": stamp.strftime("%Y-%m-%d")}).json()["total"] == 1
    assert client.get("Patient", params={**query, "_lastUpdated": f"ne{stamp.year}"}).json()["total"] == 0


def test_count_pages_with_next_links_through_every_match_once(client, unique):
    created = {client.create(patient(unique))["id"] for _ in range(7)}
    seen, url, pages = [], None, 0
    bundle = client.get("Patient", params={"identifier": unique, "_count": 3}).json()
    while True:
        pages += 1
        assert bundle["total"] == 7
        assert len(bundle.get("entry", [])) <= 3
        seen += _ids(bundle)
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if url is None:
            break
        assert url.startswith(client.base_url)
        bundle = client.get(url).json()
    assert pages == 3
    assert sorted(seen) == sorted(created)


def test_count_is_clamped_to_the_server_maximum(settings, unique):
    """R4 search.html#count: the server may return fewer than asked; here at most max_page_size a page."""
    server = LiveServer(dataclasses.replace(settings, max_page_size=3))
    try:
        with FhirClient(server.base_url, server.token("system/*.cruds")) as small:
            for index in range(5):
                small.create({**patient(unique), "name": [{"family": f"Clamp{index}"}]})
            bundle = small.get("Patient", params={"identifier": unique, "_count": 100000}).json()
            assert len(bundle["entry"]) == 3
            assert bundle["total"] == 5
            next_page = small.get(next(link["url"] for link in bundle["link"] if link["relation"] == "next")).json()
            assert len(next_page["entry"]) == 2
    finally:
        server.stop()


def test_count_zero_returns_only_the_total(client, unique):
    client.create(patient(unique))
    bundle = client.get("Patient", params={"identifier": unique, "_count": 0}).json()
    assert bundle["total"] == 1
    assert "entry" not in bundle


def test_unknown_parameter_is_ignored_with_a_warning(client, unique):
    client.create(patient(unique))
    bundle = client.get("Patient", params={"identifier": unique, "shoe-size": "42"}).json()
    assert bundle["total"] == 1
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert outcomes[0]["resource"]["issue"][0]["severity"] == "warning"
    assert "shoe-size" in outcomes[0]["resource"]["issue"][0]["diagnostics"]


def test_unknown_parameter_under_strict_handling_returns_400(client):
    response = client.get("Patient", params={"shoe-size": "42"}, headers={"Prefer": "handling=strict"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["location"] == ["http.shoe-size"]
    assert "expression" not in response.json()["issue"][0]


def test_invalid_values_return_400_naming_the_parameter(client):
    for params in ({"_lastUpdated": "yesterday"}, {"_count": "-1"}, {"identifier:below": "x"}, {"gender": ""}):
        response = client.get("Patient", params=params)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"


def test_hostile_values_never_cause_a_server_error(client):
    for value in ("' OR 1=1 --", "x'); DROP TABLE resources; --", "\\", "a" * 5000, "%00", "|||", ",,,"):
        response = client.get("Patient", params={"identifier": value, "_id": value})
        assert response.status_code in (200, 400), value
    response = client.get("Patient", params={"identifier": "a\x00b"})
    assert response.status_code == 400


def test_search_by_post_form(client, unique):
    created = client.create(patient(unique))
    response = client.post("Patient/_search", data={"identifier": f"{MRN}|{unique}"})
    assert response.status_code == 200
    assert _ids(response.json()) == [created["id"]]


def test_updated_resource_is_found_by_its_new_values_only(client, unique):
    created = client.create(patient(unique))
    renamed = f"{unique}-new"
    client.put(f"Patient/{created['id']}", json={**created, "identifier": [{"system": MRN, "value": renamed}]})
    assert client.get("Patient", params={"identifier": unique}).json()["total"] == 0
    assert _ids(client.get("Patient", params={"identifier": renamed}).json()) == [created["id"]]


def test_last_updated_search_uses_utc(client, unique):
    created = client.create(patient(unique))
    stamp = datetime.fromisoformat(created["meta"]["lastUpdated"].replace("Z", "+00:00"))
    shifted = stamp.astimezone(timezone(timedelta(hours=5))).strftime("%Y-%m-%dT%H:%M:%S+05:00")
    assert client.get("Patient", params={"identifier": unique, "_lastUpdated": f"ge{shifted}"}).json()["total"] == 1
