"""transaction (R4 http.html#transaction, bundle.html#transaction): all or nothing, in one database
transaction, with urn:uuid and conditional references resolved."""

from __future__ import annotations

import uuid

from tests.factories import MRN, condition, medication_request, patient


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _post(resource: dict, full_url: str | None = None, **request) -> dict:
    entry = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"], **request}}
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _transaction(*entries) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def _mrn_total(client, value: str) -> int:
    return client.get("Patient", params={"identifier": f"{MRN}|{value}"}).json()["total"]


def test_transaction_creates_resources_linked_by_urn_uuid(client, unique):
    patient_url = _urn()
    bundle = _transaction(
        _post(medication_request("x", subject={"reference": patient_url}), _urn()),
        _post(patient(unique), patient_url),
        _post(condition("x", subject={"reference": patient_url}), _urn()),
    )
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201 Created"] * 3
    patient_id = result["entry"][1]["response"]["location"].split("/")[1]
    assert result["entry"][1]["response"]["etag"] == 'W/"1"'
    assert result["entry"][1]["response"]["lastModified"].endswith("Z")
    assert result["entry"][1]["fullUrl"] == f"{client.base_url}/Patient/{patient_id}"
    request_id = result["entry"][0]["response"]["location"].split("/")[1]
    stored = client.get(f"MedicationRequest/{request_id}").json()
    assert stored["subject"]["reference"] == f"Patient/{patient_id}"
    found = client.get("MedicationRequest", params={"subject": f"Patient/{patient_id}"}).json()
    assert found["total"] == 1


def test_transaction_with_invalid_50th_of_60_entries_leaves_nothing(client, unique):
    entries = [_post(patient(f"{unique}-{i}"), _urn()) for i in range(60)]
    entries[49] = _post({**patient(f"{unique}-49"), "gender": "martian"}, entries[49]["fullUrl"])
    response = client.post(client.base_url, json=_transaction(*entries))
    assert response.status_code == 422
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "entry 49" in outcome["issue"][0]["diagnostics"]
    assert entries[49]["fullUrl"] in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[49]"]
    assert ["Bundle.entry[49].resource.gender"] in [issue.get("expression") for issue in outcome["issue"][1:]]
    assert all(_mrn_total(client, f"{unique}-{i}") == 0 for i in (0, 48, 50, 59))


def test_transaction_failing_in_the_database_phase_leaves_nothing(client, unique):
    existing = client.create(patient(unique))
    bundle = _transaction(
        _post(patient(unique + "new"), _urn()),
        {
            "resource": {**existing, "gender": "male"},
            "request": {"method": "PUT", "url": f"Patient/{existing['id']}", "ifMatch": 'W/"9"'},
        },
    )
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 412
    assert "entry 1" in response.json()["issue"][0]["diagnostics"]
    assert _mrn_total(client, unique + "new") == 0
    assert client.get(f"Patient/{existing['id']}").json()["gender"] == "female"


def test_transaction_resolves_conditional_references(client, unique):
    target = client.create(patient(unique))
    reference = f"Patient?identifier={MRN}|{unique}"
    bundle = _transaction(_post(medication_request("x", subject={"reference": reference})))
    result = client.post(client.base_url, json=bundle).json()
    request_id = result["entry"][0]["response"]["location"].split("/")[1]
    assert client.get(f"MedicationRequest/{request_id}").json()["subject"]["reference"] == f"Patient/{target['id']}"


def test_transaction_resolves_conditional_reference_to_a_patient_created_earlier_in_it(client, unique):
    reference = f"Patient?identifier={MRN}|{unique}"
    bundle = _transaction(
        _post(patient(unique), _urn()), _post(medication_request("x", subject={"reference": reference}))
    )
    result = client.post(client.base_url, json=bundle)
    assert result.status_code == 200, result.text
    patient_id = result.json()["entry"][0]["response"]["location"].split("/")[1]
    request_id = result.json()["entry"][1]["response"]["location"].split("/")[1]
    assert client.get(f"MedicationRequest/{request_id}").json()["subject"]["reference"] == f"Patient/{patient_id}"


def test_transaction_with_unresolvable_conditional_reference_fails(client, unique):
    bundle = _transaction(
        _post(patient(unique + "p"), _urn()),
        _post(medication_request("x", subject={"reference": f"Patient?identifier={MRN}|{unique}"})),
    )
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 422
    assert "entry 1" in response.json()["issue"][0]["diagnostics"]
    assert _mrn_total(client, unique + "p") == 0


def test_transaction_with_ambiguous_conditional_reference_fails(client, unique):
    client.create(patient(unique))
    client.create(patient(unique))
    bundle = _transaction(_post(medication_request("x", subject={"reference": f"Patient?identifier={MRN}|{unique}"})))
    assert client.post(client.base_url, json=bundle).status_code == 422


def test_transaction_if_none_exist_reuses_the_match_and_rewrites_references_to_it(client, unique):
    existing = client.create(patient(unique))
    patient_url = _urn()
    bundle = _transaction(
        _post(patient(unique), patient_url, ifNoneExist=f"identifier={MRN}|{unique}"),
        _post(medication_request("x", subject={"reference": patient_url})),
    )
    result = client.post(client.base_url, json=bundle).json()
    assert result["entry"][0]["response"]["status"] == "200 OK"
    assert result["entry"][0]["response"]["location"].startswith(f"Patient/{existing['id']}/")
    request_id = result["entry"][1]["response"]["location"].split("/")[1]
    assert client.get(f"MedicationRequest/{request_id}").json()["subject"]["reference"] == f"Patient/{existing['id']}"
    assert _mrn_total(client, unique) == 1


def test_transaction_processes_delete_post_put_get_and_answers_in_request_order(client, unique):
    doomed = client.create(patient(unique + "d"))
    kept = client.create(patient(unique + "k"))
    bundle = _transaction(
        {"request": {"method": "GET", "url": f"Patient/{kept['id']}"}},
        {"resource": {**kept, "gender": "male"}, "request": {"method": "PUT", "url": f"Patient/{kept['id']}"}},
        _post(patient(unique + "n"), _urn()),
        {"request": {"method": "DELETE", "url": f"Patient/{doomed['id']}"}},
    )
    result = client.post(client.base_url, json=bundle).json()
    assert [e["response"]["status"] for e in result["entry"]] == ["200 OK", "200 OK", "201 Created", "204 No Content"]
    assert result["entry"][0]["resource"]["gender"] == "male"  # the read ran after the update
    assert client.get(f"Patient/{doomed['id']}").status_code == 410


def test_transaction_search_entry_sees_the_transactions_own_writes(client, unique):
    bundle = _transaction(
        {"request": {"method": "GET", "url": f"Patient?identifier={MRN}|{unique}"}}, _post(patient(unique), _urn())
    )
    result = client.post(client.base_url, json=bundle).json()
    assert [e["response"]["status"] for e in result["entry"]] == ["200 OK", "201 Created"]
    searchset = result["entry"][0]["resource"]
    created_id = result["entry"][1]["response"]["location"].split("/")[1]
    assert searchset["total"] == 1
    assert [e["resource"]["id"] for e in searchset["entry"]] == [created_id]


def test_transaction_conditional_update_and_put_with_client_id(client, unique):
    existing = client.create(patient(unique))
    bundle = _transaction(
        {
            "resource": patient(unique, gender="male"),
            "request": {"method": "PUT", "url": f"Patient?identifier={MRN}|{unique}"},
        },
        {"resource": {**patient(unique + "c"), "id": unique}, "request": {"method": "PUT", "url": f"Patient/{unique}"}},
    )
    result = client.post(client.base_url, json=bundle).json()
    assert [e["response"]["status"] for e in result["entry"]] == ["200 OK", "201 Created"]
    assert client.get(f"Patient/{existing['id']}").json()["gender"] == "male"
    assert client.get(f"Patient/{unique}").status_code == 200


def test_transaction_patch_entry_with_fhirpath_patch(client, unique):
    existing = client.create(patient(unique))
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "replace"},
                    {"name": "path", "valueString": "Patient.gender"},
                    {"name": "value", "valueCode": "other"},
                ],
            }
        ],
    }
    bundle = _transaction({"resource": parameters, "request": {"method": "PATCH", "url": f"Patient/{existing['id']}"}})
    result = client.post(client.base_url, json=bundle).json()
    assert result["entry"][0]["response"]["status"] == "200 OK"
    assert client.get(f"Patient/{existing['id']}").json()["gender"] == "other"


def test_transaction_with_unresolved_urn_uuid_reference_fails(client):
    bundle = _transaction(_post(medication_request("x", subject={"reference": _urn()})))
    assert client.post(client.base_url, json=bundle).status_code == 422


def test_transaction_with_two_entries_for_one_resource_returns_400(client, unique):
    existing = client.create(patient(unique))
    entry = {"resource": existing, "request": {"method": "PUT", "url": f"Patient/{existing['id']}"}}
    assert client.post(client.base_url, json=_transaction(entry, entry)).status_code == 400


def test_transaction_entry_denied_by_scope_fails_the_whole_transaction(client, client_with, unique):
    writer = client_with("system/Patient.c")
    bundle = _transaction(_post(patient(unique), _urn()), _post(medication_request("x")))
    response = writer.post(writer.base_url, json=bundle)
    assert response.status_code == 403
    assert "entry 1" in response.json()["issue"][0]["diagnostics"]
    assert _mrn_total(client, unique) == 0


def test_transaction_with_prefer_minimal_returns_no_resources(client, unique):
    response = client.post(
        client.base_url, json=_transaction(_post(patient(unique), _urn())), headers={"Prefer": "return=minimal"}
    )
    assert "resource" not in response.json()["entry"][0]
    assert response.json()["entry"][0]["response"]["status"] == "201 Created"


def test_post_to_base_with_something_else_than_a_bundle_returns_400(client, unique):
    assert client.post(client.base_url, json=patient(unique)).status_code == 400
    assert client.post(client.base_url, json={"resourceType": "Bundle", "type": "collection"}).status_code == 400


def test_transaction_of_100_entries_commits_together(client, unique):
    entries = []
    for i in range(50):
        patient_url = _urn()
        entries.append(_post(patient(f"{unique}-{i}"), patient_url))
        entries.append(_post(medication_request("x", subject={"reference": patient_url})))
    result = client.post(client.base_url, json=_transaction(*entries))
    assert result.status_code == 200
    assert len(result.json()["entry"]) == 100
    assert _mrn_total(client, f"{unique}-49") == 1


def test_transaction_delete_with_stale_if_match_fails_and_deletes_nothing(client, unique):
    kept = client.create(patient(unique))
    bundle = _transaction(
        _post(patient(unique + "n"), _urn()),
        {"request": {"method": "DELETE", "url": f"Patient/{kept['id']}", "ifMatch": 'W/"5"'}},
    )
    assert client.post(client.base_url, json=bundle).status_code == 412
    assert client.get(f"Patient/{kept['id']}").status_code == 200
    assert _mrn_total(client, unique + "n") == 0


def test_transaction_deleting_a_referenced_patient_fails_with_409(client, unique):
    subject = client.create(patient(unique))
    client.create(medication_request(subject["id"]))
    bundle = _transaction({"request": {"method": "DELETE", "url": f"Patient/{subject['id']}"}})
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 409
    assert client.get(f"Patient/{subject['id']}").status_code == 200


def test_transaction_create_outside_a_granular_scope_fails(client, client_with, unique):
    category = "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
    subject = client.create(patient(unique))
    writer = client_with(f"system/Condition.c?category={category}")
    response = writer.post(writer.base_url, json=_transaction(_post(condition(subject["id"]))))
    assert response.status_code == 403
