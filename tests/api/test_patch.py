"""patch (R4 http.html#patch): JSON Patch and FHIRPath Patch, If-Match, validation of the result."""

from __future__ import annotations

from tests.factories import patient

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _operation(kind: str, path: str, **parts) -> dict:
    part = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name in ("index", "source", "destination"):
            part.append({"name": name, "valueInteger": value})
        elif name == "name":
            part.append({"name": "name", "valueString": value})
        else:
            part.append({"name": "value", name: value})
    return {"name": "operation", "part": part}


def _fhirpath_patch(*operations) -> dict:
    return {"resourceType": "Parameters", "parameter": list(operations)}


def test_json_patch_replaces_a_value_and_makes_a_new_version(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}", json=[{"op": "replace", "path": "/gender", "value": "male"}], headers=JSON_PATCH
    )
    assert response.status_code == 200
    assert response.json()["gender"] == "male"
    assert response.json()["meta"]["versionId"] == "2"
    assert response.headers["ETag"] == 'W/"2"'
    assert client.get(f"Patient/{created['id']}").json()["gender"] == "male"


def test_json_patch_add_remove_and_test_operations(client, unique):
    created = client.create(patient(unique))
    operations = [
        {"op": "test", "path": "/gender", "value": "female"},
        {"op": "add", "path": "/name/0/given/-", "value": "Marie"},
        {"op": "remove", "path": "/birthDate"},
    ]
    body = client.patch(f"Patient/{created['id']}", json=operations, headers=JSON_PATCH).json()
    assert body["name"][0]["given"] == ["Jane", "Marie"]
    assert "birthDate" not in body


def test_json_patch_with_failing_test_operation_returns_422_and_changes_nothing(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}",
        headers=JSON_PATCH,
        json=[
            {"op": "test", "path": "/gender", "value": "male"},
            {"op": "replace", "path": "/gender", "value": "other"},
        ],
    )
    assert response.status_code == 422
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_malformed_json_patch_returns_400(client, unique):
    created = client.create(patient(unique))
    response = client.patch(f"Patient/{created['id']}", json=[{"op": "jump", "path": "/gender"}], headers=JSON_PATCH)
    assert response.status_code == 400


def test_patch_that_makes_the_resource_invalid_returns_422_and_changes_nothing(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}", json=[{"op": "replace", "path": "/gender", "value": "martian"}], headers=JSON_PATCH
    )
    assert response.status_code == 422
    assert "Patient.gender" in response.json()["issue"][0]["expression"]
    current = client.get(f"Patient/{created['id']}").json()
    assert current["gender"] == "female"
    assert current["meta"]["versionId"] == "1"


def test_patch_that_changes_the_id_returns_422(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}", json=[{"op": "replace", "path": "/id", "value": "other"}], headers=JSON_PATCH
    )
    assert response.status_code == 422


def test_patch_with_matching_if_match_succeeds(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}",
        json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={**JSON_PATCH, "If-Match": 'W/"1"'},
    )
    assert response.status_code == 200


def test_patch_with_stale_if_match_returns_412(client, unique):
    created = client.create(patient(unique))
    client.put(f"Patient/{created['id']}", json=created)
    response = client.patch(
        f"Patient/{created['id']}",
        json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={**JSON_PATCH, "If-Match": 'W/"1"'},
    )
    assert response.status_code == 412
    assert client.get(f"Patient/{created['id']}").json()["gender"] == "female"


def test_patch_of_unknown_resource_returns_404(client):
    response = client.patch("Patient/never-was", json=[{"op": "remove", "path": "/gender"}], headers=JSON_PATCH)
    assert response.status_code == 404


def test_patch_of_deleted_resource_returns_410(client, unique):
    created = client.create(patient(unique))
    client.delete(f"Patient/{created['id']}")
    response = client.patch(f"Patient/{created['id']}", json=[{"op": "remove", "path": "/gender"}], headers=JSON_PATCH)
    assert response.status_code == 410


def test_patch_in_another_media_type_returns_415(client, unique):
    created = client.create(patient(unique))
    response = client.patch(
        f"Patient/{created['id']}", data="gender=male", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415


def test_patch_needs_the_update_permission(client, client_with, unique):
    created = client.create(patient(unique))
    reader = client_with("system/Patient.rs")
    response = reader.patch(f"Patient/{created['id']}", json=[{"op": "remove", "path": "/gender"}], headers=JSON_PATCH)
    assert response.status_code == 403


def test_fhirpath_patch_replace(client, unique):
    created = client.create(patient(unique))
    body = _fhirpath_patch(_operation("replace", "Patient.gender", valueCode="male"))
    response = client.patch(f"Patient/{created['id']}", json=body)
    assert response.status_code == 200
    assert response.json()["gender"] == "male"


def test_fhirpath_patch_add_a_single_and_a_repeating_element(client, unique):
    created = client.create(patient(unique))
    body = _fhirpath_patch(
        _operation("add", "Patient", name="active", valueBoolean=True),
        _operation("add", "Patient", name="telecom", valueContactPoint={"system": "phone", "value": "555"}),
    )
    result = client.patch(f"Patient/{created['id']}", json=body).json()
    assert result["active"] is True
    assert result["telecom"] == [{"system": "phone", "value": "555"}]


def test_fhirpath_patch_insert_delete_and_move(client, unique):
    created = client.create(patient(unique, name=[{"family": "A"}, {"family": "B"}, {"family": "C"}]))
    body = _fhirpath_patch(
        _operation("insert", "Patient.name", index=1, valueHumanName={"family": "X"}),
        _operation("delete", "Patient.name.where(family='B')"),
        _operation("move", "Patient.name", source=0, destination=2),
        _operation("delete", "Patient.birthDate"),
    )
    result = client.patch(f"Patient/{created['id']}", json=body).json()
    assert [n["family"] for n in result["name"]] == ["X", "C", "A"]
    assert "birthDate" not in result


def test_fhirpath_patch_replace_inside_a_list_item(client, unique):
    created = client.create(patient(unique))
    body = _fhirpath_patch(_operation("replace", "Patient.name[0].family", valueString="Okafor"))
    assert client.patch(f"Patient/{created['id']}", json=body).json()["name"][0]["family"] == "Okafor"


def test_fhirpath_patch_path_matching_nothing_for_replace_returns_422(client, unique):
    created = client.create(patient(unique))
    body = _fhirpath_patch(_operation("replace", "Patient.maritalStatus", valueString="x"))
    assert client.patch(f"Patient/{created['id']}", json=body).status_code == 422


def test_fhirpath_patch_that_makes_the_resource_invalid_returns_422_and_changes_nothing(client, unique):
    created = client.create(patient(unique))
    body = _fhirpath_patch(_operation("replace", "Patient.gender", valueCode="martian"))
    assert client.patch(f"Patient/{created['id']}", json=body).status_code == 422
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_fhirpath_patch_malformed_parameters_returns_400(client, unique):
    created = client.create(patient(unique))
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "operation", "part": [{"name": "type", "valueCode": "add"}]}],
    }
    assert client.patch(f"Patient/{created['id']}", json=body).status_code == 400


def test_fhirpath_patch_with_stale_if_match_returns_412(client, unique):
    created = client.create(patient(unique))
    client.put(f"Patient/{created['id']}", json=created)
    body = _fhirpath_patch(_operation("replace", "Patient.gender", valueCode="male"))
    assert client.patch(f"Patient/{created['id']}", json=body, headers={"If-Match": 'W/"1"'}).status_code == 412


def test_patch_is_recorded_in_history(client, unique):
    created = client.create(patient(unique))
    client.patch(
        f"Patient/{created['id']}", json=[{"op": "replace", "path": "/gender", "value": "male"}], headers=JSON_PATCH
    )
    history = client.get(f"Patient/{created['id']}/_history").json()
    assert history["total"] == 2
    assert history["entry"][0]["resource"]["gender"] == "male"


def test_fhirpath_patch_of_the_resource_itself_returns_422_and_changes_nothing(client, unique):
    """Deleting or replacing `Patient` (the root) once raised a TypeError: a 500."""
    created = client.create(patient(unique))
    for operation in (_operation("delete", "Patient"), _operation("replace", "Patient", valueCode="male")):
        response = client.patch(f"Patient/{created['id']}", json=_fhirpath_patch(operation))
        assert response.status_code == 422, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"
