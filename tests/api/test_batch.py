"""batch (R4 http.html#transaction): entries independent, each with its own status or outcome."""

from __future__ import annotations

from tests.factories import MRN, patient


def _batch(*entries) -> dict:
    return {"resourceType": "Bundle", "type": "batch", "entry": list(entries)}


def _post(resource: dict) -> dict:
    return {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def test_batch_entries_succeed_or_fail_independently(client, unique):
    existing = client.create(patient(unique + "e"))
    bundle = _batch(
        _post(patient(unique + "a")),
        _post({**patient(unique + "b"), "gender": "martian"}),
        {"request": {"method": "GET", "url": f"Patient/{existing['id']}"}},
        {"request": {"method": "GET", "url": "Patient/never-existed"}},
        {"request": {"method": "DELETE", "url": f"Patient/{existing['id']}"}},
    )
    response = client.post(client.base_url, json=bundle)
    assert response.status_code == 200
    result = response.json()
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses[0] == "201 Created"
    assert statuses[1].startswith("422")
    assert result["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert statuses[3].startswith("404")
    assert statuses[4] == "204 No Content"
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}a"}).json()["total"] == 1
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}b"}).json()["total"] == 0


def test_batch_runs_deletes_before_reads(client, unique):
    existing = client.create(patient(unique))
    bundle = _batch(
        {"request": {"method": "GET", "url": f"Patient/{existing['id']}"}},
        {"request": {"method": "DELETE", "url": f"Patient/{existing['id']}"}},
    )
    statuses = [e["response"]["status"] for e in client.post(client.base_url, json=bundle).json()["entry"]]
    assert statuses == ["410 Gone", "204 No Content"]


def test_batch_search_entry_returns_a_searchset(client, unique):
    client.create(patient(unique))
    bundle = _batch({"request": {"method": "GET", "url": f"Patient?identifier={MRN}|{unique}"}})
    entry = client.post(client.base_url, json=bundle).json()["entry"][0]
    assert entry["response"]["status"] == "200 OK"
    assert entry["resource"]["type"] == "searchset"
    assert entry["resource"]["total"] == 1


def test_batch_conditional_create_and_if_none_match(client, unique):
    existing = client.create(patient(unique))
    bundle = _batch(
        {
            **_post(patient(unique)),
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={MRN}|{unique}"},
        },
        {"request": {"method": "GET", "url": f"Patient/{existing['id']}", "ifNoneMatch": 'W/"1"'}},
    )
    entries = client.post(client.base_url, json=bundle).json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[0]["resource"]["id"] == existing["id"]
    assert entries[1]["response"]["status"] == "304 Not Modified"


def test_batch_entry_denied_by_scope_gets_403_and_others_proceed(client, client_with, unique):
    writer = client_with("system/Patient.c")
    bundle = _batch(_post(patient(unique)), {"request": {"method": "GET", "url": "Patient/anything"}})
    entries = writer.post(writer.base_url, json=bundle).json()["entry"]
    assert entries[0]["response"]["status"] == "201 Created"
    assert entries[1]["response"]["status"].startswith("403")


def test_batch_entry_with_an_unsupported_request_gets_400(client):
    bundle = _batch({"request": {"method": "POST", "url": "Patient/1/$frobnicate"}})
    entry = client.post(client.base_url, json=bundle).json()["entry"][0]
    assert entry["response"]["status"].startswith("400")


def test_batch_entries_may_not_refer_to_each_other_by_urn_uuid(client, unique):
    patient_url = "urn:uuid:6d0b4c2e-7a53-4b39-9a7f-0c6ad8a2b1f1"
    from tests.factories import medication_request

    bundle = _batch(
        {"fullUrl": patient_url, **_post(patient(unique))},
        _post(medication_request("x", subject={"reference": patient_url})),
    )
    entries = client.post(client.base_url, json=bundle).json()["entry"]
    assert entries[0]["response"]["status"] == "201 Created"
    assert entries[1]["response"]["status"].startswith("422")


def test_batch_entries_honour_granular_scopes(client, client_with, unique):
    from tests.factories import condition

    category = "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item"
    subject = client.create(patient(unique))
    uncategorized = client.create(condition(subject["id"]))
    granular = client_with(f"system/Condition.crs?category={category}")
    bundle = _batch(
        {"request": {"method": "GET", "url": f"Condition/{uncategorized['id']}"}}, _post(condition(subject["id"]))
    )
    statuses = [e["response"]["status"] for e in granular.post(granular.base_url, json=bundle).json()["entry"]]
    assert statuses[0].startswith("403")
    assert statuses[1].startswith("403")


def test_batch_or_transaction_with_a_null_entry_returns_400(client):
    """R4 json.html: null is not allowed in FHIR JSON; the Bundle is malformed, not one failed entry."""
    for kind in ("batch", "transaction"):
        for entries in ([None], [{"request": {"method": "GET", "url": "Patient"}}, None], [3]):
            response = client.post(client.base_url, json={"resourceType": "Bundle", "type": kind, "entry": entries})
            assert response.status_code == 400, (kind, entries, response.text)
            issue = response.json()["issue"][0]
            assert issue["expression"] == [f"Bundle.entry[{len(entries) - 1}]"]


def test_batch_entry_outcome_paths_are_rooted_in_the_bundle_sent(client, unique):
    bundle = _batch(_post(patient(unique + "a")), _post({**patient(unique + "b"), "gender": "martian"}))
    outcome = client.post(client.base_url, json=bundle).json()["entry"][1]["response"]["outcome"]
    assert ["Bundle.entry[1].resource.gender"] in [issue.get("expression") for issue in outcome["issue"]]
