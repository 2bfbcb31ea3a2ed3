"""history-instance, history-type and history-system (R4 http.html#history)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from tests.factories import medication_request, patient


def test_instance_history_lists_versions_newest_first(client, unique):
    created = client.create(patient(unique))
    client.put(f"Patient/{created['id']}", json={**created, "gender": "male"})
    bundle = client.get(f"Patient/{created['id']}/_history").json()
    assert bundle["type"] == "history"
    assert bundle["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in bundle["entry"]] == ["PUT", "POST"]
    assert bundle["entry"][0]["response"]["etag"] == 'W/"2"'
    assert bundle["entry"][0]["fullUrl"] == f"{client.base_url}/Patient/{created['id']}"


def test_history_since_keeps_only_later_versions(client, unique):
    created = client.create(patient(unique))
    time.sleep(0.05)
    updated = client.put(f"Patient/{created['id']}", json=created).json()
    since = datetime.fromisoformat(updated["meta"]["lastUpdated"].replace("Z", "+00:00")) - timedelta(milliseconds=10)
    bundle = client.get(f"Patient/{created['id']}/_history",
                        params={"_since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}).json()
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["2"]


def test_history_count_pages_with_next_link(client, unique):
    created = client.create(patient(unique))
    for _ in range(4):
        client.put(f"Patient/{created['id']}", json=created)
    first = client.get(f"Patient/{created['id']}/_history", params={"_count": 2}).json()
    assert [e["resource"]["meta"]["versionId"] for e in first["entry"]] == ["5", "4"]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(next_url).json()
    assert [e["resource"]["meta"]["versionId"] for e in second["entry"]] == ["3", "2"]


def test_type_history_contains_only_that_type(client, unique):
    subject = client.create(patient(unique))
    client.create(medication_request(subject["id"]))
    bundle = client.get("MedicationRequest/_history", params={"_count": 50}).json()
    assert {e["resource"]["resourceType"] for e in bundle["entry"] if "resource" in e} == {"MedicationRequest"}


def test_system_history_has_the_latest_change_first(client, unique):
    subject = client.create(patient(unique))
    request = client.create(medication_request(subject["id"]))
    since = request["meta"]["lastUpdated"]
    bundle = client.get("_history", params={"_since": since}).json()
    assert request["id"] in [e["resource"]["id"] for e in bundle["entry"] if "resource" in e]


def test_history_of_unknown_resource_is_empty(client):
    bundle = client.get("Patient/never-existed/_history").json()
    assert bundle["total"] == 0


def test_invalid_since_returns_400(client):
    assert client.get("_history", params={"_since": "last tuesday"}).status_code == 400


def test_patient_scoped_history_stays_in_the_compartment(client, client_with, unique):
    mine = client.create(patient(unique + "m"))
    other = client.create(patient(unique + "o"))
    client.create(medication_request(other["id"]))
    mine_request = client.create(medication_request(mine["id"]))
    reader = client_with("patient/*.rs", patient=mine["id"])
    bundle = reader.get("MedicationRequest/_history", params={"_count": 1000}).json()
    patients = {e["resource"]["subject"]["reference"] for e in bundle["entry"] if "resource" in e}
    assert patients == {f"Patient/{mine['id']}"}
    assert mine_request["id"] in [e["resource"]["id"] for e in bundle["entry"]]
