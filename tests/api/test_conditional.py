"""Conditional create, update, delete and patch (R4 http.html#ccreate, #cond-update, #cdelete)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import FhirClient
from tests.factories import MRN, medication_request, patient


def _identifier(value: str) -> str:
    return f"identifier={MRN}|{value}"


def _count(client, value: str) -> int:
    return client.get("Patient", params={"identifier": f"{MRN}|{value}"}).json()["total"]


def test_conditional_create_without_match_returns_201(client, unique):
    response = client.post("Patient", json=patient(unique), headers={"If-None-Exist": _identifier(unique)})
    assert response.status_code == 201
    assert _count(client, unique) == 1


def test_conditional_create_with_one_match_returns_200_and_the_existing_resource(client, unique):
    existing = client.create(patient(unique))
    response = client.post(
        "Patient", json=patient(unique, family="Other"), headers={"If-None-Exist": _identifier(unique)}
    )
    assert response.status_code == 200
    assert response.json()["id"] == existing["id"]
    assert response.json()["name"][0]["family"] == "Doe"
    assert _count(client, unique) == 1


def test_conditional_create_with_several_matches_returns_412(client, unique):
    client.create(patient(unique))
    client.create(patient(unique))
    response = client.post("Patient", json=patient(unique), headers={"If-None-Exist": _identifier(unique)})
    assert response.status_code == 412
    assert _count(client, unique) == 2


def test_conditional_create_with_unknown_parameter_returns_400(client, unique):
    response = client.post("Patient", json=patient(unique), headers={"If-None-Exist": "nonsense=1"})
    assert response.status_code == 400
    assert _count(client, unique) == 0


def test_concurrent_conditional_creates_produce_one_resource(live_server, client, unique):
    token = live_server.token("system/*.cruds")

    def create(_):
        with FhirClient(live_server.base_url, token) as session:
            return session.post("Patient", json=patient(unique), headers={"If-None-Exist": _identifier(unique)})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert _count(client, unique) == 1


def test_conditional_update_with_one_match_updates_it(client, unique):
    existing = client.create(patient(unique))
    response = client.put(f"Patient?{_identifier(unique)}", json=patient(unique, gender="male"))
    assert response.status_code == 200
    assert response.json()["id"] == existing["id"]
    assert response.json()["meta"]["versionId"] == "2"
    assert client.get(f"Patient/{existing['id']}").json()["gender"] == "male"


def test_conditional_update_without_match_creates(client, unique):
    response = client.put(f"Patient?{_identifier(unique)}", json=patient(unique))
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/_history/1")
    assert _count(client, unique) == 1


def test_conditional_update_with_several_matches_returns_412(client, unique):
    client.create(patient(unique))
    client.create(patient(unique))
    assert client.put(f"Patient?{_identifier(unique)}", json=patient(unique, gender="male")).status_code == 412


def test_conditional_update_with_a_different_id_in_the_body_returns_400(client, unique):
    client.create(patient(unique))
    response = client.put(f"Patient?{_identifier(unique)}", json={**patient(unique), "id": "someone-else"})
    assert response.status_code == 400


def test_conditional_update_honours_if_match(client, unique):
    client.create(patient(unique))
    response = client.put(f"Patient?{_identifier(unique)}", json=patient(unique), headers={"If-Match": 'W/"7"'})
    assert response.status_code == 412


def test_conditional_delete_of_one_match_deletes_it(client, unique):
    existing = client.create(patient(unique))
    response = client.delete(f"Patient?{_identifier(unique)}")
    assert response.status_code == 200
    assert client.get(f"Patient/{existing['id']}").status_code == 410


def test_conditional_delete_without_match_changes_nothing(client, unique):
    response = client.delete(f"Patient?{_identifier(unique)}")
    assert response.status_code == 200
    assert "nothing" in response.json()["issue"][0]["diagnostics"]


def test_conditional_delete_of_several_matches_returns_412_when_not_allowed(client, unique):
    client.create(patient(unique))
    client.create(patient(unique))
    assert client.delete(f"Patient?{_identifier(unique)}").status_code == 412
    assert _count(client, unique) == 2


def test_conditional_delete_without_criteria_returns_400(client):
    assert client.delete("Patient").status_code == 400


def test_conditional_patch_patches_the_one_match(client, unique):
    existing = client.create(patient(unique))
    response = client.patch(
        f"Patient?{_identifier(unique)}",
        json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200
    assert client.get(f"Patient/{existing['id']}").json()["gender"] == "male"


def test_conditional_patch_without_match_returns_404(client, unique):
    response = client.patch(
        f"Patient?{_identifier(unique)}",
        json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 404


def test_conditional_create_is_confined_to_the_patient_compartment(client, client_with, unique):
    mine = client.create(patient(unique))
    other = client.create(patient(unique + "x"))
    client.create(medication_request(other["id"], identifier=[{"system": MRN, "value": unique}]))
    writer = client_with("patient/MedicationRequest.cru", patient=mine["id"])
    response = writer.post(
        "MedicationRequest",
        json=medication_request(mine["id"], identifier=[{"system": MRN, "value": unique}]),
        headers={"If-None-Exist": _identifier(unique)},
    )
    assert response.status_code == 201  # the other patient's match is not visible to this token
