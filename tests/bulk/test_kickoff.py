"""Kick-off (hl7.org/fhir/uv/bulkdata export.html#bulk-data-kick-off-request): the three levels, GET
and POST, and the parameters: _outputFormat, _since, _type, _typeFilter, patient."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.bulk.flow import ASYNC, export, kick_off, poll
from tests.factories import group, medication_request, medication_statement, patient


def _ids(found: dict, resource_type: str) -> set[str]:
    return {r["id"] for r in found.get(resource_type, [])}


def test_system_export_answers_202_with_a_status_url_and_a_complete_manifest(client, since):
    member = client.create(patient("sys"))
    order = client.create(medication_request(member["id"]))
    response = kick_off(client, f"{client.base_url}/$export", params={"_since": since})
    assert response.status_code == 202
    status_url = response.headers["Content-Location"]
    assert status_url.startswith(client.base_url + "/")
    done = poll(client, status_url)
    assert done.status_code == 200 and done.headers["Content-Type"].startswith("application/json")
    assert "Expires" in done.headers
    manifest = done.json()
    assert manifest["request"] == f"{client.base_url}/$export?_since={since.replace(':', '%3A')}" or manifest[
        "request"
    ].startswith(f"{client.base_url}/$export?_since=")
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    transaction_time = datetime.fromisoformat(manifest["transactionTime"].replace("Z", "+00:00"))
    assert manifest["transactionTime"].endswith("Z")
    assert datetime.fromisoformat(since.replace("Z", "+00:00")) - timedelta(seconds=5) < transaction_time
    assert transaction_time <= datetime.now(UTC)
    assert {(o["type"], o["count"]) for o in manifest["output"]} == {("Patient", 1), ("MedicationRequest", 1)}
    _, found = export(client, f"{client.base_url}/$export", params={"_since": since})
    assert _ids(found, "Patient") == {member["id"]} and _ids(found, "MedicationRequest") == {order["id"]}


def test_post_kickoff_with_parameters(client, since):
    member = client.create(patient("post"))
    client.create(medication_request(member["id"]))
    statement = client.create(medication_statement(member["id"]))
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
            {"name": "_since", "valueInstant": since},
            {"name": "_type", "valueString": "MedicationStatement"},
        ],
    }
    manifest, found = export(client, f"{client.base_url}/$export", json=body)
    assert set(found) == {"MedicationStatement"} and _ids(found, "MedicationStatement") == {statement["id"]}
    assert manifest["request"] == f"{client.base_url}/$export"


def test_output_format_abbreviations_are_accepted_and_others_refused(client, since):
    for output_format in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        response = kick_off(
            client, f"{client.base_url}/$export", params={"_since": since, "_outputFormat": output_format}
        )
        assert response.status_code == 202, response.text
        poll(client, response.headers["Content-Location"])
    refused = kick_off(client, f"{client.base_url}/$export", params={"_outputFormat": "text/csv"})
    assert refused.status_code == 400 and refused.json()["issue"][0]["location"] == ["http._outputFormat"]
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient"},
            {"name": "_outputFormat", "valueString": "text/csv"},
        ],
    }
    posted = kick_off(client, f"{client.base_url}/$export", json=body)
    assert posted.status_code == 400, posted.text
    assert posted.json()["issue"][0]["expression"] == ["Parameters.parameter[1]"]
    assert "location" not in posted.json()["issue"][0]


def test_type_limits_the_export_to_the_types_named(client, since):
    member = client.create(patient("types"))
    client.create(medication_request(member["id"]))
    _, found = export(client, f"{client.base_url}/$export", params={"_since": since, "_type": "Patient"})
    assert set(found) == {"Patient"}


def test_since_exports_only_what_changed_after_it_and_not_deletions(client):
    kept = client.create(patient("since-a"))
    deleted = client.create(patient("since-b"))
    untouched = client.create(patient("since-c"))
    time.sleep(0.05)
    since = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    client.put(f"Patient/{kept['id']}", json={**kept, "gender": "male"})
    assert client.delete(f"Patient/{deleted['id']}").status_code in (200, 204)
    created = client.create(patient("since-d"))
    _, found = export(client, f"{client.base_url}/$export", params={"_since": since, "_type": "Patient"})
    exported = {r["id"]: r for r in found["Patient"]}
    assert set(exported) == {kept["id"], created["id"]}
    assert exported[kept["id"]]["gender"] == "male" and untouched["id"] not in exported


def test_type_filters_for_one_type_are_ored_and_run_by_the_search_engine(client, since):
    member = client.create(patient("filter"))
    active = client.create(medication_request(member["id"], status="active"))
    stopped = client.create(medication_request(member["id"], status="stopped"))
    client.create(medication_request(member["id"], status="completed"))
    filters = "MedicationRequest?status=active,MedicationRequest?status=stopped"
    _, found = export(
        client,
        f"{client.base_url}/$export",
        params={"_since": since, "_type": "MedicationRequest", "_typeFilter": filters},
    )
    assert _ids(found, "MedicationRequest") == {active["id"], stopped["id"]}
    # repeated parameters, and a comma inside one query's values (search OR) stays in that query
    _, found = export(
        client,
        f"{client.base_url}/$export",
        params=[
            ("_since", since),
            ("_type", "MedicationRequest,Patient"),
            ("_typeFilter", "MedicationRequest?status=active,stopped"),
            ("_typeFilter", "Patient?gender=male"),
        ],
    )
    assert _ids(found, "MedicationRequest") == {active["id"], stopped["id"]} and "Patient" not in found


def test_a_bad_type_filter_is_400_and_lenient_puts_it_in_the_error_file(client, since):
    client.create(patient("lenient"))
    params = {"_since": since, "_type": "Patient", "_typeFilter": "Patient?nonsense=1"}
    refused = kick_off(client, f"{client.base_url}/$export", params=params)
    assert refused.status_code == 400 and "nonsense" in refused.text
    manifest, found = export(
        client, f"{client.base_url}/$export", params=params, headers={"Prefer": "respond-async, handling=lenient"}
    )
    assert len(found["Patient"]) == 1  # the filter was not applied
    assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
    outcome = client.get(manifest["error"][0]["url"]).json()
    assert outcome["resourceType"] == "OperationOutcome" and "nonsense" in str(outcome)


def test_unsupported_parameters_are_400_unless_lenient(client, since):
    for params in ({"includeAssociatedData": "LatestProvenanceResources"}, {"_elements": "id"}, {"foo": "bar"}):
        refused = kick_off(client, f"{client.base_url}/$export", params={"_since": since, **params})
        assert refused.status_code == 400, params
        assert refused.json()["resourceType"] == "OperationOutcome"
        lenient = kick_off(
            client,
            f"{client.base_url}/$export",
            params={"_since": since, **params},
            headers={"Prefer": "respond-async, handling=lenient"},
        )
        assert lenient.status_code == 202
        poll(client, lenient.headers["Content-Location"])
    assert kick_off(client, f"{client.base_url}/$export", params={"_type": "Nope"}).status_code == 400
    assert kick_off(client, f"{client.base_url}/$export", params={"_since": "yesterday"}).status_code == 400
    assert kick_off(client, f"{client.base_url}/$export", params={"patient": "Patient/1"}).status_code == 400


def test_kickoff_without_prefer_respond_async_is_400(client):
    response = client.get(f"{client.base_url}/$export", headers={"Accept": "application/fhir+json"})
    assert response.status_code == 400 and "respond-async" in response.text


def test_patient_level_export_covers_every_patient_or_those_posted(client, since):
    first, second = client.create(patient("pl-1")), client.create(patient("pl-2"))
    first_order = client.create(medication_request(first["id"]))
    client.create(medication_request(second["id"]))
    client.create(group([first["id"]], identifier="pl"))  # Group is in the compartment too (member)
    _, found = export(
        client, f"{client.base_url}/Patient/$export", params={"_since": since, "_type": "Patient,MedicationRequest"}
    )
    assert _ids(found, "Patient") == {first["id"], second["id"]} and len(found["MedicationRequest"]) == 2
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_since", "valueInstant": since},
            {"name": "_type", "valueString": "Patient,MedicationRequest"},
            {"name": "patient", "valueReference": {"reference": f"Patient/{first['id']}"}},
        ],
    }
    _, found = export(client, f"{client.base_url}/Patient/$export", json=body)
    assert _ids(found, "Patient") == {first["id"]} and _ids(found, "MedicationRequest") == {first_order["id"]}


def test_group_export_is_exactly_the_members_compartments(client):
    members = [client.create(patient(f"g-{i}")) for i in range(3)]
    outsider = client.create(patient("g-out"))
    orders = {m["id"]: client.create(medication_request(m["id"]))["id"] for m in members}
    client.create(medication_request(outsider["id"]))
    statement = client.create(medication_statement(members[0]["id"]))
    roster = client.create(group([m["id"] for m in members[:2]], identifier="ge"))
    _, found = export(
        client,
        f"{client.base_url}/Group/{roster['id']}/$export",
        params={"_type": "Patient,MedicationRequest,MedicationStatement"},
    )
    assert _ids(found, "Patient") == {members[0]["id"], members[1]["id"]}
    assert _ids(found, "MedicationRequest") == {orders[members[0]["id"]], orders[members[1]["id"]]}
    assert _ids(found, "MedicationStatement") == {statement["id"]}
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "MedicationRequest"},
            {"name": "patient", "valueReference": {"reference": f"Patient/{members[1]['id']}"}},
            {"name": "patient", "valueReference": {"reference": f"Patient/{outsider['id']}"}},
        ],
    }  # not a member
    _, found = export(client, f"{client.base_url}/Group/{roster['id']}/$export", json=body)
    assert _ids(found, "MedicationRequest") == {orders[members[1]["id"]]}


def test_group_export_of_an_unknown_group_is_404(client):
    assert kick_off(client, f"{client.base_url}/Group/no-such-group/$export").status_code == 404


def test_patient_level_export_refuses_types_outside_the_compartment(client, since):
    response = kick_off(client, f"{client.base_url}/Patient/$export", params={"_type": "Nope"})
    assert response.status_code == 400
    assert (
        kick_off(
            client,
            f"{client.base_url}/Patient/$export",
            params={"_since": since},
            headers={"Accept": "application/fhir+json"},
        ).status_code
        == 202
    )
    assert ASYNC["Prefer"] == "respond-async"


def test_metadata_declares_the_bulk_data_export_operations(live_server):
    import requests

    statement = requests.get(f"{live_server.base_url}/metadata").json()
    assert "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data" in statement["instantiates"]
    assert statement["rest"][0]["operation"] == [
        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
    ]
    by_type = {r["type"]: {o["definition"] for o in r.get("operation", [])} for r in statement["rest"][0]["resource"]}
    assert "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export" in by_type["Patient"]
    assert "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export" in by_type["Group"]
