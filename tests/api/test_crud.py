"""create, read, vread, update, delete over HTTP (R4 http.html)."""

from __future__ import annotations

from tests.factories import MRN, medication_request, patient


def test_create_assigns_id_version_and_last_updated(client, unique):
    response = client.post("Patient", json={**patient(unique), "id": "client-chosen"})
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"] == f"{client.base_url}/Patient/{body['id']}/_history/1"
    assert "GMT" in response.headers["Last-Modified"]


def test_read_returns_the_stored_resource_with_etag(client, unique):
    created = client.create(patient(unique, family="Okafor"))
    response = client.get(f"Patient/{created['id']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.headers["ETag"] == 'W/"1"'
    assert response.json()["name"][0]["family"] == "Okafor"
    assert response.json()["identifier"][0]["value"] == unique


def test_read_of_unknown_id_returns_404_operation_outcome(client):
    response = client.get("Patient/does-not-exist")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "not-found"


def test_read_with_matching_if_none_match_returns_304(client, unique):
    created = client.create(patient(unique))
    response = client.get(f"Patient/{created['id']}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304


def test_update_creates_a_new_version(client, unique):
    created = client.create(patient(unique))
    changed = {**created, "gender": "male"}
    response = client.put(f"Patient/{created['id']}", json=changed)
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "2"
    assert response.json()["gender"] == "male"
    assert response.headers["ETag"] == 'W/"2"'
    assert response.headers["Location"].endswith(f"/Patient/{created['id']}/_history/2")
    assert client.get(f"Patient/{created['id']}").json()["gender"] == "male"


def test_update_as_create_with_client_chosen_id_returns_201(client, unique):
    response = client.put(f"Patient/{unique}", json={**patient(unique), "id": unique})
    assert response.status_code == 201
    assert response.json()["id"] == unique
    assert response.json()["meta"]["versionId"] == "1"


def test_update_with_stale_if_match_returns_412(client, unique):
    created = client.create(patient(unique))
    client.put(f"Patient/{created['id']}", json=created)
    response = client.put(f"Patient/{created['id']}", json=created, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "2"


def test_update_with_current_if_match_succeeds(client, unique):
    created = client.create(patient(unique))
    response = client.put(f"Patient/{created['id']}", json=created, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "2"


def test_update_with_body_id_different_from_url_returns_400(client, unique):
    created = client.create(patient(unique))
    response = client.put(f"Patient/{created['id']}", json={**created, "id": "other"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.id"]


def test_update_without_body_id_returns_400(client, unique):
    response = client.put(f"Patient/{unique}", json=patient(unique))
    assert response.status_code == 400


def test_vread_returns_each_version(client, unique):
    created = client.create(patient(unique, family="First"))
    client.put(f"Patient/{created['id']}", json={**created, "name": [{"family": "Second"}]})
    first = client.get(f"Patient/{created['id']}/_history/1")
    second = client.get(f"Patient/{created['id']}/_history/2")
    assert first.status_code == second.status_code == 200
    assert first.json()["name"][0]["family"] == "First"
    assert second.json()["name"][0]["family"] == "Second"
    assert first.headers["ETag"] == 'W/"1"'
    assert client.get(f"Patient/{created['id']}/_history/3").status_code == 404
    assert client.get(f"Patient/{created['id']}/_history/x").status_code == 404


def test_delete_then_read_returns_410_and_history_keeps_the_deletion(client, unique):
    created = client.create(patient(unique))
    response = client.delete(f"Patient/{created['id']}")
    assert response.status_code == 200
    assert client.get(f"Patient/{created['id']}").status_code == 410
    assert client.get(f"Patient/{created['id']}/_history/1").status_code == 200
    assert client.get(f"Patient/{created['id']}/_history/2").status_code == 410
    history = client.get(f"Patient/{created['id']}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert "resource" not in history["entry"][0]


def test_delete_of_deleted_resource_changes_nothing(client, unique):
    created = client.create(patient(unique))
    client.delete(f"Patient/{created['id']}")
    assert client.delete(f"Patient/{created['id']}").status_code == 200
    assert client.get(f"Patient/{created['id']}/_history").json()["total"] == 2


def test_delete_of_unknown_resource_returns_404(client):
    assert client.delete("Patient/never-existed").status_code == 404


def test_deleted_resource_disappears_from_search(client, unique):
    created = client.create(patient(unique))
    client.delete(f"Patient/{created['id']}")
    assert client.get("Patient", params={"identifier": f"http://hospital.example/mrn|{unique}"}).json()["total"] == 0


def test_update_after_delete_recreates_with_next_version(client, unique):
    created = client.create(patient(unique))
    client.delete(f"Patient/{created['id']}")
    response = client.put(f"Patient/{created['id']}", json=created)
    assert response.status_code == 201
    assert response.json()["meta"]["versionId"] == "3"


def test_prefer_return_minimal_returns_no_body(client, unique):
    response = client.post("Patient", json=patient(unique), headers={"Prefer": "return=minimal"})
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["Location"]


def test_prefer_return_operation_outcome(client, unique):
    response = client.post("Patient", json=patient(unique), headers={"Prefer": "return=OperationOutcome"})
    assert response.status_code == 201
    assert response.json()["resourceType"] == "OperationOutcome"


def test_all_five_types_round_trip(client, unique):
    from tests.factories import appointment, condition, medication_statement

    patient_id = client.create(patient(unique))["id"]
    for resource in (
        condition(patient_id),
        medication_request(patient_id),
        medication_statement(patient_id),
        appointment(patient_id),
    ):
        created = client.create(resource)
        read_back = client.get(f"{resource['resourceType']}/{created['id']}").json()
        assert read_back["resourceType"] == resource["resourceType"]
        assert read_back["meta"]["versionId"] == "1"


def test_a_malformed_id_in_the_url_returns_400_and_an_unknown_one_404(client):
    """R4 datatypes.html#id: no resource can have id 'a$b', so asking for it is the client's error."""
    for method, path in (
        ("GET", "Patient/a$b"),
        ("GET", "Patient/a$b/_history/1"),
        ("DELETE", "Patient/a$b"),
        ("GET", "Patient/a$b/_history"),
        ("GET", "Patient/a$b/$everything"),
    ):
        response = client.request(method, path)
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    patch = client.patch("Patient/a$b", json=[], headers={"Content-Type": "application/json-patch+json"})
    assert patch.status_code == 400
    assert client.get("Patient/well-formed-but-unknown").status_code == 404


def test_control_characters_in_strings_return_422_with_the_path(client, unique):
    """R4 datatypes.html#string: nothing below U+0020 but tab, CR and LF (U+0000 once gave a 500)."""
    for bad in ("a\u0000b", "bell\u0007", "esc\u001b"):
        resource = {**patient(unique), "name": [{"family": "Ok", "given": ["Fine", bad]}]}
        response = client.post("Patient", json=resource)
        assert response.status_code == 422, (bad, response.text)
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["Patient.name[0].given[1]"]
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 0
    fine = {**patient(unique), "name": [{"family": "Ok", "text": "line one\nline two\ttabbed\r"}]}
    assert client.post("Patient", json=fine).status_code == 201
