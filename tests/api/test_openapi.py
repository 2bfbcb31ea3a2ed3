"""schemathesis over the served OpenAPI document: requests generated from it (a few examples per operation)
against the live server never get a 5xx, and every answer matches the document (status, media type, headers,
schema). Then the document itself: FHIR media types, OperationOutcome errors, the registry's search parameters."""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 2
FUZZED_TAGS = "^(system|Patient|MedicationRequest)$"  # bounded: the other types share these routes' code


def test_generated_requests_get_no_5xx_and_match_the_document(live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json").include(tag_regex=FUZZED_TAGS)
    headers = {"Authorization": f"Bearer {live_server.token('system/*.cruds')}"}
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            nonlocal tried
            tried += 1
            response = case.call(base_url=live_server.root_url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as error:  # one failing operation must not hide the others
            failures.append(f"{operation.label}: {str(error)[:600]}")
    assert tried > 50
    assert failures == [], "\n\n".join(failures)


def test_the_document_describes_fhir_routes_with_fhir_media_types(live_server):
    document = requests.get(f"{live_server.base_url}/openapi.json", timeout=15).json()
    assert document == requests.get(f"{live_server.root_url}/openapi.json", timeout=15).json()
    read = document["paths"]["/fhir/Patient/{id}"]["get"]
    assert "application/fhir+json" in read["responses"]["200"]["content"]
    assert read["responses"]["404"]["content"]["application/fhir+json"]["schema"] == {
        "$ref": "#/components/schemas/OperationOutcome"
    }
    create = document["paths"]["/fhir/MedicationRequest"]["post"]
    assert create["requestBody"]["content"]["application/fhir+json"]["schema"] == {
        "$ref": "#/components/schemas/MedicationRequest"
    }
    assert {"$ref": "#/components/parameters/If-None-Exist"} in create["parameters"]
    search = {p["name"] for p in document["paths"]["/fhir/MedicationRequest"]["get"]["parameters"] if "name" in p}
    capability = requests.get(f"{live_server.base_url}/metadata", timeout=15).json()
    declared = {
        p["name"]
        for r in capability["rest"][0]["resource"]
        if r["type"] == "MedicationRequest"
        for p in r["searchParam"]
    }
    assert declared and declared <= search  # the same registry as the CapabilityStatement
    update = document["paths"]["/fhir/Patient/{id}"]["put"]
    assert {"$ref": "#/components/parameters/If-Match"} in update["parameters"]
    assert {"412", "422"} <= set(update["responses"])
    described = {
        path
        for path, item in document["paths"].items()
        if any(operation["tags"] != ["other"] for operation in item.values())
    }
    assert {
        "/fhir",
        "/fhir/metadata",
        "/fhir/Patient/{id}/$everything",
        "/fhir/Patient/{id}/_history/{version_id}",
        "/fhir/Patient/{id}/MedicationRequest",
        "/fhir/MedicationRequest/$validate",
    } <= described
    for rule in live_server.app.url_map.iter_rules():  # every route of the app is in it (undescribed: plainly)
        if rule.rule.startswith("/fhir/") and not rule.rule.endswith("/") and "<" not in rule.rule:
            assert rule.rule in document["paths"], rule.rule
    assert requests.get(f"{live_server.root_url}/docs", timeout=15).status_code == 200
