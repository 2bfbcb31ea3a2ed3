"""Group as a stored type (R4 group.html): a payer's member roster, validated and searchable."""

from __future__ import annotations

from tests.factories import group, patient


def _ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}


def test_group_create_read_update_delete_and_history(client, unique):
    member = client.create(patient(unique))
    created = client.create(group([member["id"]], identifier=unique))
    assert client.get(f"Group/{created['id']}").json()["member"][0]["entity"]["reference"] == f"Patient/{member['id']}"
    updated = client.put(f"Group/{created['id']}", json={**created, "name": "Gold plan members"})
    assert updated.status_code == 200 and updated.json()["meta"]["versionId"] == "2"
    history = client.get(f"Group/{created['id']}/_history").json()
    assert history["total"] == 2
    assert client.delete(f"Group/{created['id']}").status_code in (200, 204)
    assert client.get(f"Group/{created['id']}").status_code == 410


def test_group_is_validated_on_write(client):
    response = client.post("Group", json={"resourceType": "Group", "type": "people", "actual": True})
    assert response.status_code == 422
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "Group.type" in str(response.json())
    assert client.post("Group", json={"resourceType": "Group", "type": "person"}).status_code == 422  # actual 1..1


def test_group_search_by_member_characteristic_identifier_type_and_actual(client, unique):
    member = client.create(patient(unique))
    roster = client.create(group([member["id"]], identifier=unique))
    other = {k: v for k, v in group([], identifier=unique + "-x").items() if k not in ("member", "characteristic")}
    other = client.create({**other, "type": "device", "actual": False})
    assert _ids(client.get("Group", params={"member": f"Patient/{member['id']}"}).json()) == {roster["id"]}
    assert _ids(client.get("Group", params={"identifier": f"http://payer.example/roster|{unique}"}).json()) == {
        roster["id"]
    }
    both = {"identifier": f"{unique},{unique}-x"}
    assert _ids(client.get("Group", params={**both, "characteristic": "http://payer.example/plan|gold"}).json()) == {
        roster["id"]
    }
    assert _ids(client.get("Group", params={**both, "type": "device"}).json()) == {other["id"]}
    assert _ids(client.get("Group", params={**both, "actual": "true"}).json()) == {roster["id"]}
    assert _ids(client.get("Group", params={**both, "actual": "false"}).json()) == {other["id"]}
