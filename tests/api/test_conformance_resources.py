"""The shipped conformance resources, read-only (StructureDefinition, ValueSet, CodeSystem), the
terminology operations on them, and what /metadata says about profiles and operations."""

from __future__ import annotations

US_CORE_PATIENT = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
OURS = "http://fhir-medication-server.example/fhir/StructureDefinition/"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"]]


def test_read_a_shipped_structure_definition(client):
    response = client.get("StructureDefinition/us-core-patient")
    assert response.status_code == 200
    assert (response.json()["url"], response.json()["version"]) == (US_CORE_PATIENT, "6.1.0")
    assert client.get("StructureDefinition/nope").status_code == 404


def test_search_structure_definitions_by_url_version_name_and_type(client):
    assert _ids(client.get("StructureDefinition", params={"url": US_CORE_PATIENT}).json()) == ["us-core-patient"]
    assert _ids(client.get("StructureDefinition", params={"url": f"{US_CORE_PATIENT}|6.1.0"}).json()) == [
        "us-core-patient"
    ]
    assert client.get("StructureDefinition", params={"url": f"{US_CORE_PATIENT}|5.0.1"}).json()["total"] == 0
    by_type = _ids(client.get("StructureDefinition", params={"type": "MedicationStatement"}).json())
    assert by_type == ["MedicationStatement", "psychiatric-medicationstatement"]
    named = _ids(client.get("StructureDefinition", params={"name": "followup", "version": "0.1.0"}).json())
    assert named == ["follow-up-appointment"]
    assert client.get("StructureDefinition", params={"publisher": "x"}).status_code == 400


def test_value_sets_and_code_systems_are_readable_and_searchable(client):
    found = client.get("ValueSet", params={"url": "http://hl7.org/fhir/ValueSet/condition-clinical"}).json()
    assert _ids(found) == ["condition-clinical"]
    code_system = client.get("CodeSystem", params={"url": CLINICAL}).json()["entry"][0]["resource"]
    assert client.get(f"CodeSystem/{code_system['id']}").json()["url"] == CLINICAL


def test_conformance_resources_are_read_only(client):
    assert client.post("StructureDefinition", json={"resourceType": "StructureDefinition"}).status_code in (404, 405)
    assert client.delete("StructureDefinition/us-core-patient").status_code in (404, 405)


def test_expand_with_filter_count_and_offset(client):
    url = "http://hl7.org/fhir/ValueSet/condition-clinical"
    full = client.get("ValueSet/$expand", params={"url": url}).json()["expansion"]
    assert full["total"] == 6 and len(full["contains"]) == 6
    page = client.get("ValueSet/condition-clinical/$expand", params={"count": 2, "offset": 1}).json()["expansion"]
    assert [c["code"] for c in page["contains"]] == [c["code"] for c in full["contains"][1:3]]
    filtered = client.post(
        "ValueSet/$expand",
        json={
            "resourceType": "Parameters",
            "parameter": [{"name": "url", "valueUri": url}, {"name": "filter", "valueString": "remis"}],
        },
    ).json()["expansion"]
    assert [c["code"] for c in filtered["contains"]] == ["remission"]
    assert client.get("ValueSet/$expand", params={"url": "http://example.org/vs"}).status_code == 404
    assert client.get("ValueSet/$expand", params={"url": url, "count": "-1"}).status_code == 400


def _result(parameters: dict) -> bool:
    return next(p["valueBoolean"] for p in parameters["parameter"] if p["name"] == "result")


def test_validate_code_in_a_shipped_value_set(client):
    url = "http://hl7.org/fhir/ValueSet/condition-clinical"
    assert _result(
        client.get("ValueSet/$validate-code", params={"url": url, "system": CLINICAL, "code": "active"}).json()
    )
    assert not _result(
        client.get("ValueSet/$validate-code", params={"url": url, "system": CLINICAL, "code": "smouldering"}).json()
    )
    concept = {"coding": [{"system": "http://snomed.info/sct", "code": "1"}, {"system": CLINICAL, "code": "resolved"}]}
    body = {"resourceType": "Parameters", "parameter": [{"name": "codeableConcept", "valueCodeableConcept": concept}]}
    assert _result(client.post("ValueSet/condition-clinical/$validate-code", json=body).json())


def test_lookup_a_code(client):
    response = client.get("CodeSystem/$lookup", params={"system": CLINICAL, "code": "remission"})
    assert response.status_code == 200
    display = next(p["valueString"] for p in response.json()["parameter"] if p["name"] == "display")
    assert display == "Remission"
    assert client.get("CodeSystem/$lookup", params={"system": CLINICAL, "code": "nope"}).status_code == 404


def test_conformance_reads_need_a_token_with_the_scope(client_with):
    assert client_with(None).get("StructureDefinition/us-core-patient").status_code == 401
    assert (
        client_with("system/Patient.rs")
        .get("ValueSet/$expand", params={"url": "http://hl7.org/fhir/ValueSet/condition-clinical"})
        .status_code
        == 403
    )
    assert client_with("system/StructureDefinition.rs").get("StructureDefinition/us-core-patient").status_code == 200


def test_metadata_lists_supported_profiles_and_operations(client):
    statement = client.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert US_CORE_PATIENT in resources["Patient"]["supportedProfile"]
    assert resources["MedicationStatement"]["supportedProfile"] == [OURS + "psychiatric-medicationstatement"]
    assert {"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"} in resources[
        "Condition"
    ]["operation"]
    assert {o["name"] for o in resources["ValueSet"]["operation"]} == {"expand", "validate-code"}
    assert [i["code"] for i in resources["CodeSystem"]["interaction"]] == ["read", "search-type"]


def test_an_error_about_a_posted_parameter_points_at_it_in_the_body(client):
    """R4 operationoutcome.html: expression is FHIRPath into the content sent; a query parameter is named
    in location (http.<name>), a parameter of a POSTed Parameters body by its place in it."""
    url = "http://hl7.org/fhir/ValueSet/condition-clinical"
    got = client.get("ValueSet/$expand", params={"url": url, "count": "-1"})
    assert got.status_code == 400
    assert got.json()["issue"][0]["location"] == ["http.count"] and "expression" not in got.json()["issue"][0]
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "url", "valueUri": url}, {"name": "count", "valueInteger": -1}],
    }
    posted = client.post("ValueSet/$expand", json=body)
    assert posted.status_code == 400, posted.text
    issue = posted.json()["issue"][0]
    assert issue["expression"] == ["Parameters.parameter[1]"] and "location" not in issue
