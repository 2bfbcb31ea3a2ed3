"""The in-memory matcher (search/matcher.py): what it answers without the store, and what it leaves
to a search (chains and _has need other resources)."""

from __future__ import annotations

import pytest

from server.config import Settings
from server.interactions.capabilities import IMPLEMENTED_INTERACTIONS
from server.search.matcher import NotMatchable, matches
from server.search.query import SearchParser
from server.search.registry import Registry
from server.storage.search import CompartmentCriterion

BASE = "http://fhir.example/fhir"
REGISTRY = Registry.load(Settings.from_env(env={}).resources_dir, IMPLEMENTED_INTERACTIONS)
CONDITION = {
    "resourceType": "Condition",
    "id": "c1",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}]},
}


def _criteria(resource_type: str, query: list[tuple[str, str]]) -> list:
    definition = REGISTRY.get(resource_type)
    return SearchParser(definition, BASE, 10, 10).parse(query, strict=True).plan.criteria


def _matches(query: list[tuple[str, str]], resource: dict = CONDITION) -> bool:
    definition = REGISTRY.get(resource["resourceType"])
    return matches(definition, resource, _criteria(resource["resourceType"], query), BASE)


def test_criteria_are_and_ed_and_values_or_ed():
    assert _matches([("_id", "c1,c2"), ("code", "35489007"), ("subject", "p1")])
    assert not _matches([("code", "35489007"), ("subject", "p2")])
    assert _matches([("subject", f"{BASE}/Patient/p1")])


def test_compartment_membership_is_matched_in_memory():
    definition = REGISTRY.get("Condition")
    inside = CompartmentCriterion("Patient", "p1", definition.patient_compartment_params())
    outside = CompartmentCriterion("Patient", "p2", definition.patient_compartment_params())
    assert matches(definition, CONDITION, [inside], BASE)
    assert not matches(definition, CONDITION, [outside], BASE)


@pytest.mark.parametrize("name, value", [("subject:Patient.name", "doe"), ("_has:Condition:subject:code", "1")])
def test_chains_and_has_are_left_to_a_search(name, value):
    resource_type = "Condition" if name.startswith("subject") else "Patient"
    resource = CONDITION if resource_type == "Condition" else {"resourceType": "Patient", "id": "p1"}
    with pytest.raises(NotMatchable):
        matches(REGISTRY.get(resource_type), resource, _criteria(resource_type, [(name, value)]), BASE)
