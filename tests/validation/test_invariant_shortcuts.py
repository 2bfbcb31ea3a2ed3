"""The invariant shortcuts (server/validation/shortcuts.py) answer exactly as FHIRPath does whenever they
answer: on generated elements, every decided result equals fhirpathpy's on the same node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.validation.invariants import ERRATA, Invariant
from server.validation.shortcuts import SHORTCUTS

PROFILES = Path(__file__).resolve().parents[2] / "profiles" / "StructureDefinition"

# the node each invariant is stated on (its FHIR type, or the element path), and the element names it reads
TYPE_PATH = {
    "dom-2": "Patient",
    "dom-3": "Patient",
    "dom-4": "Patient",
    "dom-5": "Patient",
    "dom-6": "Patient",
    "ref-1": "Reference",
    "cpt-2": "ContactPoint",
    "qty-3": "Quantity",
    "att-1": "Attachment",
    "pat-1": "Patient.contact",
    "ext-1": "Extension",
    "per-1": "Period",
    "sqty-1": "Quantity",
}
primitives = st.one_of(
    st.sampled_from(["", "#", "#c1", "#nowhere", "Patient/1", "http://x.example/a", "2020-01-01", "2021-06"]),
    st.integers(-2, 2),
    st.booleans(),
)
leaves = st.one_of(primitives, st.just({"extension": [{"url": "http://x.example/e", "valueString": "x"}]}))
CONTAINED = st.lists(
    st.fixed_dictionaries(
        {"resourceType": st.just("Patient"), "id": st.sampled_from(["c1", "c2"])},
        optional={
            "meta": st.fixed_dictionaries(
                {}, optional={"versionId": st.just("1"), "security": st.just([{"code": "x"}])}
            ),
            "contained": st.just([{"resourceType": "Patient", "id": "c3"}]),
        },
    ),
    max_size=2,
)


def _names(expression: str) -> set[str]:
    names = {"value", "system", "code", "data", "contentType", "reference", "display", "start", "end", "comparator"}
    names |= {"name", "telecom", "address", "organization", "extension", "valueString", "valueCode", "text", "url"}
    return {name for name in names if name in expression or name.startswith("value")}


def nodes(key: str, expression: str):
    names = sorted(_names(expression))
    complex_values = st.one_of(
        st.just({"div": '<div xmlns="http://www.w3.org/1999/xhtml">text</div>', "status": "generated"}),
        st.just({"status": "generated"}),
        st.just([{"family": "A"}]),
        st.just({"reference": "#c1"}),
        st.just([{"url": "http://x.example/e", "valueString": "y"}]),
    )
    element = st.dictionaries(
        st.sampled_from(names + [f"_{n}" for n in names[:3]]), st.one_of(leaves, complex_values), max_size=4
    )
    if key.startswith("dom-"):
        return st.builds(
            lambda e, c: {"resourceType": "Patient", **e, **({"contained": c} if c else {})}, element, CONTAINED
        )
    return element


def _r4_expressions() -> set[tuple[str, str]]:
    found = set()
    for path in PROFILES.glob("*.json"):
        for element in json.loads(path.read_text()).get("snapshot", {}).get("element", []):
            for constraint in element.get("constraint", []):
                expression = constraint.get("expression", "")
                if constraint["key"] in ERRATA:
                    expression = expression.replace(*ERRATA[constraint["key"]])
                found.add((constraint["key"], expression))
    return found


def test_every_shortcut_is_for_an_expression_the_r4_definitions_state():
    assert set(SHORTCUTS) <= _r4_expressions()


def test_plain_elements_are_decided_without_fhirpath():
    by_key = {key: check for (key, _), check in SHORTCUTS.items()}
    assert by_key["ref-1"]({"reference": "Patient/1"}) is True
    assert by_key["ref-1"]({"reference": "#c1"}) is None  # a contained reference: FHIRPath decides
    assert by_key["cpt-2"]({"value": "555"}) is False
    assert by_key["cpt-2"]({"value": "555", "system": "phone"}) is True
    assert by_key["dom-3"]({"resourceType": "Patient", "contained": [{"resourceType": "Patient", "id": "c"}]}) is None


@pytest.mark.parametrize("key, expression", sorted(SHORTCUTS), ids=[k for k, _ in sorted(SHORTCUTS)])
def test_a_decided_answer_is_the_fhirpath_answer(key, expression):
    invariant = Invariant(key, "error", key, expression, "R4")
    shortcut = SHORTCUTS[(key, expression)]
    decided = []

    @settings(max_examples=150, deadline=None, database=None)
    @given(nodes(key, expression), CONTAINED)
    def check(node, contained):
        resource = node if key.startswith("dom-") else {"resourceType": "Patient", "contained": contained}
        answer = shortcut(node)
        if answer is None:
            return
        decided.append(answer)
        assert answer == invariant.evaluated(node, resource, TYPE_PATH[key]), node

    check()
    assert decided, "the generated elements never reached a decided case"
