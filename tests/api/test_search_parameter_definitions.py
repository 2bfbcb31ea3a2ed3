"""The SearchParameters of this server's own search parameters (profiles/SearchParameter/): each one that
/metadata points at resolves by url and by id, is a valid R4 SearchParameter (fhir.resources and the independent
Medplum validator), and says what resources/*.json and the search index use: code, type, expression."""

from __future__ import annotations

import json
from pathlib import Path

from server.fhir.models import structure_errors
from tests.api.test_independent_validation import validate

OURS = "https://github.com/fhir-medication-server/SearchParameter/"
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _declared(client) -> list[tuple[str, dict]]:
    """(resource type, searchParam) of every search parameter in /metadata whose definition is ours."""
    statement = client.get("metadata").json()
    return [
        (resource["type"], parameter)
        for resource in statement["rest"][0]["resource"]
        for parameter in resource.get("searchParam", [])
        if parameter.get("definition", "").startswith(OURS)
    ]


def _ours_in_resources() -> dict[str, dict]:
    """definition url -> the parameter as resources/<Type>.json states it (with its type)."""
    found = {}
    for path in RESOURCES.glob("*.json"):
        for parameter in json.loads(path.read_text()).get("searchParam", []):
            if parameter.get("definition", "").startswith(OURS):
                found[parameter["definition"]] = {**parameter, "base": path.stem}
    return found


def test_each_declared_search_parameter_resolves_by_url_and_by_id_and_agrees_with_the_index(client):
    declared = _declared(client)
    ours = _ours_in_resources()
    assert {p["definition"] for _, p in declared} == set(ours) and ours
    for resource_type, parameter in declared:
        found = client.get("SearchParameter", params={"url": parameter["definition"]}).json()
        assert found["total"] == 1, parameter
        definition = found["entry"][0]["resource"]
        assert client.get(f"SearchParameter/{definition['id']}").json() == definition
        stated = ours[parameter["definition"]]
        assert definition["code"] == parameter["name"] == stated["name"]
        assert definition["type"] == parameter["type"] == stated["type"]
        assert definition["expression"] == stated["expression"]
        assert definition["base"] == [resource_type] == [stated["base"]]
    assert client.get("SearchParameter", params={"base": "MedicationDispense", "code": "days-supply"}).json()["total"]
    assert client.get("SearchParameter", params={"base": "Patient"}).json()["total"] == 0
    assert client.get("SearchParameter/nope").status_code == 404
    assert client.get("SearchParameter", params={"publisher": "x"}).status_code == 400


def test_each_search_parameter_is_valid_r4(client):
    definitions = [
        client.get(f"SearchParameter/{p['definition'].removeprefix(OURS)}").json() for _, p in _declared(client)
    ]
    for definition in definitions:
        assert structure_errors("SearchParameter", definition) == [], definition["id"]
    for definition, issues in zip(definitions, validate(definitions), strict=True):
        assert [i for i in issues if i.get("severity") in ("error", "fatal")] == [], definition["id"]
