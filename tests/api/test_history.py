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
    bundle = client.get(
        f"Patient/{created['id']}/_history", params={"_since": since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    ).json()
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
    updated = client.put(f"Patient/{subject['id']}", json={**subject, "gender": "male"}).json()
    bundle = client.get("_history", params={"_since": subject["meta"]["lastUpdated"], "_count": 1000}).json()
    ours = [
        (e["resource"]["resourceType"], e["resource"]["meta"]["versionId"])
        for e in bundle["entry"]
        if e.get("resource", {}).get("id") in (subject["id"], request["id"])
    ]
    assert ours == [("Patient", "2"), ("MedicationRequest", "1"), ("Patient", "1")]
    assert bundle["entry"][0]["resource"]["meta"]["lastUpdated"] >= updated["meta"]["lastUpdated"]


def test_history_of_unknown_resource_returns_404(client):
    response = client.get("Patient/never-existed/_history")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_history_of_a_malformed_id_returns_400(client):
    for bad in ("a$b", "x" * 65, "a_b"):
        response = client.get(f"Patient/{bad}/_history")
        assert response.status_code == 400, bad
        assert response.json()["resourceType"] == "OperationOutcome"


def test_history_since_after_the_last_version_is_empty_not_404(client, unique):
    created = client.create(patient(unique))
    bundle = client.get(f"Patient/{created['id']}/_history", params={"_since": "2999-01-01T00:00:00Z"})
    assert bundle.status_code == 200
    assert bundle.json()["total"] == 0


def test_history_of_a_deleted_resource_lists_the_deletion(client, unique):
    created = client.create(patient(unique))
    client.delete(f"Patient/{created['id']}")
    bundle = client.get(f"Patient/{created['id']}/_history").json()
    assert [e["request"]["method"] for e in bundle["entry"]] == ["DELETE", "POST"]
    assert bundle["entry"][0]["response"]["status"] == "204 No Content"


def test_history_tells_a_create_by_put_from_an_update(client, unique):
    id = f"put-{unique[:20]}"
    first = client.put(f"Patient/{id}", json={**patient(unique), "id": id})
    assert first.status_code == 201
    client.put(f"Patient/{id}", json={**patient(unique), "id": id, "gender": "male"})
    client.delete(f"Patient/{id}")
    again = client.put(f"Patient/{id}", json={**patient(unique), "id": id})
    assert again.status_code == 201
    entries = client.get(f"Patient/{id}/_history").json()["entry"]
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("PUT", "201 Created"),
        ("DELETE", "204 No Content"),
        ("PUT", "200 OK"),
        ("PUT", "201 Created"),
    ]


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
