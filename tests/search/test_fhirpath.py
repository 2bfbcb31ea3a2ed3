import json
from pathlib import Path

import pytest

from server.search.fhirpath import compile_expression

RESOURCES = Path(__file__).resolve().parents[2] / "resources"

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {
        "lastUpdated": "2024-05-01T10:00:00Z",
        "tag": [{"system": "urn:t", "code": "a"}],
        "profile": ["http://example.org/p"],
    },
    "identifier": [{"system": "urn:mrn", "value": "123"}],
    "name": [{"family": "Doe", "given": ["Jane", "Q"]}, {"given": ["Janie"]}],
    "telecom": [{"system": "phone", "value": "555"}, {"system": "email", "value": "j@x.org"}],
    "gender": "female",
    "deceasedDateTime": "2024-01-01",
    "generalPractitioner": [{"reference": "Practitioner/dr1"}],
}


def evaluate(expr, resource):
    return compile_expression(expr)(resource)


def test_path_navigation_flattens_lists():
    assert evaluate("Patient.name.given", PATIENT) == ["Jane", "Q", "Janie"]
    assert evaluate("Patient.name.family", PATIENT) == ["Doe"]
    assert evaluate("Patient.gender", PATIENT) == ["female"]


def test_missing_elements_give_an_empty_list():
    assert evaluate("Patient.address.city", PATIENT) == []
    assert evaluate("Patient.link.other", {"resourceType": "Patient"}) == []


def test_type_root_must_match_the_resource_type():
    assert evaluate("Condition.subject", PATIENT) == []


def test_resource_root_means_whatever_the_root_is():
    assert evaluate("Resource.id", PATIENT) == ["p1"]
    assert evaluate("Resource.meta.lastUpdated", PATIENT) == ["2024-05-01T10:00:00Z"]
    assert evaluate("Resource.meta.tag", {"resourceType": "Condition", "meta": {"tag": [{"code": "x"}]}}) == [
        {"code": "x"}
    ]
    assert evaluate("Resource.meta.profile", PATIENT) == ["http://example.org/p"]


def test_union_concatenates_and_removes_duplicates():
    assert evaluate("Patient.name.family | Patient.name.given", PATIENT) == ["Doe", "Jane", "Q", "Janie"]
    assert evaluate("Patient.gender | Patient.gender", PATIENT) == ["female"]


def test_where_resolve_is_patient_keeps_only_patient_references():
    request = {"resourceType": "MedicationRequest", "subject": {"reference": "Patient/123"}}
    group = {"resourceType": "MedicationRequest", "subject": {"reference": "Group/9"}}
    expr = "MedicationRequest.subject.where(resolve() is Patient)"
    assert evaluate(expr, request) == [{"reference": "Patient/123"}]
    assert evaluate(expr, group) == []


def test_where_resolve_is_patient_accepts_absolute_and_versioned_references():
    expr = "Condition.subject.where(resolve() is Patient)"
    for ref in ("http://x/fhir/Patient/123", "Patient/123/_history/2", "https://h.org/r4/Patient/a.b-c/_history/7"):
        assert evaluate(expr, {"resourceType": "Condition", "subject": {"reference": ref}}) == [{"reference": ref}]


def test_where_resolve_is_patient_drops_non_literal_references():
    expr = "Condition.subject.where(resolve() is Patient)"
    for subject in (
        {"reference": "urn:uuid:0b9a1c1e-4c1f-4a0b-9d57-8c7b1b0c9e11"},
        {"reference": "#p1"},
        {"identifier": {"system": "urn:mrn", "value": "1"}},
        {"display": "Jane"},
        {"reference": "http://x/fhir/Group/1"},
    ):
        assert evaluate(expr, {"resourceType": "Condition", "subject": subject}) == []


def test_where_resolve_is_filters_each_item_of_a_list():
    appointment = {
        "resourceType": "Appointment",
        "participant": [
            {"actor": {"reference": "Patient/p1"}},
            {"actor": {"reference": "Practitioner/d1"}},
            {"actor": {"reference": "Location/l1"}},
            {"type": [{"text": "no actor"}]},
        ],
    }
    assert evaluate("Appointment.participant.actor.where(resolve() is Patient)", appointment) == [
        {"reference": "Patient/p1"}
    ]
    assert evaluate("Appointment.participant.actor.where(resolve() is Location)", appointment) == [
        {"reference": "Location/l1"}
    ]
    assert len(evaluate("Appointment.participant.actor", appointment)) == 3


def test_as_in_parentheses_selects_the_choice_property():
    coded = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "aspirin"}}
    referenced = {"resourceType": "MedicationRequest", "medicationReference": {"reference": "Medication/m"}}
    assert evaluate("(MedicationRequest.medication as CodeableConcept)", coded) == [{"text": "aspirin"}]
    assert evaluate("(MedicationRequest.medication as CodeableConcept)", referenced) == []
    assert evaluate("(MedicationRequest.medication as Reference)", referenced) == [{"reference": "Medication/m"}]
    assert evaluate("(Patient.deceased as dateTime)", PATIENT) == ["2024-01-01"]


def test_as_function_and_of_type_select_the_choice_property():
    condition = {"resourceType": "Condition", "onsetAge": {"value": 40, "unit": "a"}, "abatementString": "in remission"}
    assert evaluate("Condition.onset.as(Age) | Condition.onset.as(Range)", condition) == [{"value": 40, "unit": "a"}]
    assert evaluate("Condition.onset.as(dateTime) | Condition.onset.as(Period)", condition) == []
    assert evaluate("Condition.abatement.as(string)", condition) == ["in remission"]
    assert evaluate("Condition.onset.ofType(Age)", condition) == [{"value": 40, "unit": "a"}]
    period = {"resourceType": "Condition", "onsetPeriod": {"start": "2020"}}
    assert evaluate("Condition.onset.as(dateTime) | Condition.onset.as(Period)", period) == [{"start": "2020"}]


def test_choice_stem_without_as_matches_any_choice_type():
    statement = {"resourceType": "MedicationStatement", "effectivePeriod": {"start": "2021"}}
    assert evaluate("MedicationStatement.effective", statement) == [{"start": "2021"}]
    timing = {
        "resourceType": "MedicationRequest",
        "dosageInstruction": [{"timing": {"repeat": {"durationMax": 3, "durationUnit": "h"}}}],
    }
    assert evaluate("MedicationRequest.dosageInstruction.timing.repeat.duration", timing) == []


def test_where_with_equality_filters_on_a_member():
    assert evaluate("Patient.telecom.where(system='email')", PATIENT) == [{"system": "email", "value": "j@x.org"}]
    assert evaluate("Patient.telecom.where(system='phone')", PATIENT) == [{"system": "phone", "value": "555"}]
    assert evaluate("Patient.telecom.where(system='fax')", PATIENT) == []


def test_deceased_expression_is_true_for_a_date_or_true_and_false_otherwise():
    expr = "Patient.deceased.exists() and Patient.deceased != false"
    assert evaluate(expr, PATIENT) == [True]
    assert evaluate(expr, {"resourceType": "Patient", "deceasedBoolean": True}) == [True]
    assert evaluate(expr, {"resourceType": "Patient", "deceasedBoolean": False}) == [False]
    assert evaluate(expr, {"resourceType": "Patient"}) == [False]


def test_compiled_expressions_are_cached():
    assert compile_expression("Patient.name") is compile_expression("Patient.name")


@pytest.mark.parametrize(
    "expr",
    [
        "",
        "Patient.name.count()",
        "Patient.name is HumanName",
        "Patient.name.resolve()",
        "Patient..name",
        "Patient.name[0]",
        "Patient.name as",
        "Patient.link.where(other = 'x'",
        "Patient.name |",
        "and",
        "Patient.telecom.where(system='email').as(string)",
        "Patient.name.given + 'x'",
    ],
)
def test_unsupported_expressions_raise_value_error_at_compile_time(expr):
    with pytest.raises(ValueError):
        compile_expression(expr)


def test_evaluation_never_raises_on_odd_json():
    odd = {
        "resourceType": "Patient",
        "name": "not a list",
        "telecom": [None, 3, {"system": "email"}],
        "link": [{"other": {"reference": 42}}],
    }
    assert evaluate("Patient.name.given", odd) == []
    assert evaluate("Patient.telecom.where(system='email')", odd) == [{"system": "email"}]
    assert evaluate("Patient.link.other.where(resolve() is Patient)", odd) == []


def test_every_expression_in_the_resource_definitions_compiles():
    files = sorted(RESOURCES.glob("*.json"))
    assert files
    expressions = {p["expression"] for f in files for p in json.loads(f.read_text())["searchParam"]}
    for expr in sorted(expressions):
        compile_expression(expr)({"resourceType": "Patient", "id": "x"})
