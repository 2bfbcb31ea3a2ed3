"""The profile validator (R4 profiling.html, validation.html) against the shipped definitions: the
published US Core 6.1.0 examples and our own profiles' examples pass; for each kind of rule a broken
variant fails with exactly the issue expected (expression, code, constraint key)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from server.config import PROJECT_ROOT
from server.fhir.outcomes import Unprocessable
from server.validation import Validator
from server.validation.definitions import compile_definition
from server.validation.walker import Walk

EXAMPLES = Path(__file__).parent / "examples"
OURS = "http://fhir-medication-server.example/fhir/StructureDefinition/"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(PROJECT_ROOT / "profiles")


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def medication_statement() -> dict:
    return {
        "resourceType": "MedicationStatement",
        "meta": {"profile": [OURS + "psychiatric-medicationstatement"]},
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "312938"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-06-01",
    }


def appointment() -> dict:
    return {
        "resourceType": "Appointment",
        "meta": {"profile": [OURS + "follow-up-appointment"]},
        "status": "booked",
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T09:30:00Z",
        "serviceType": [{"text": "Psychiatric follow-up"}],
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }


def errors(validator: Validator, resource: dict) -> list[tuple]:
    """(expression, code, constraint key) of every error; [] when the resource is accepted."""
    try:
        validator.validate(resource["resourceType"], resource)
    except Unprocessable as error:
        return [
            (i.expression[0] if i.expression else None, i.code, i.details)
            for i in error.issues
            if i.severity == "error"
        ]
    return []


def warnings(validator: Validator, resource: dict) -> list[tuple]:
    return [
        (i.expression[0], i.code, i.details)
        for i in validator.validate(resource["resourceType"], resource)
        if i.severity == "warning"
    ]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_published_us_core_examples_pass(validator, name):
    resource = example(name)
    assert resource["meta"]["profile"][0].startswith("http://hl7.org/fhir/us/core/StructureDefinition/")
    assert errors(validator, resource) == []


@pytest.mark.parametrize("make", [medication_statement, appointment])
def test_our_profiles_examples_pass(validator, make):
    assert errors(validator, make()) == []
    assert warnings(validator, make()) == []


# ---------------------------------------------------------------- cardinality


def test_us_core_patient_without_identifier_fails_cardinality(validator):
    patient = example("Patient-example")
    del patient["identifier"]
    assert errors(validator, patient) == [("Patient.identifier", "required", None)]


def test_the_same_patient_without_the_profile_claim_passes(validator):
    patient = example("Patient-example")
    del patient["identifier"], patient["meta"]
    assert errors(validator, patient) == []


def test_cardinality_inside_a_slice_race_needs_its_text(validator):
    patient = example("Patient-example")
    race = patient["extension"][0]
    assert race["url"].endswith("us-core-race")
    race["extension"] = [e for e in race["extension"] if e["url"] != "text"]
    assert errors(validator, patient) == [("Patient.extension[0].extension", "required", None)]


def test_slice_by_pattern_encounter_diagnosis_category_is_required(validator):
    condition = example("Condition-encounter-diagnosis-example1")
    condition["category"] = [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}
            ]
        }
    ]
    assert errors(validator, condition) == [("Condition.category", "required", None)]


def test_slice_max_extension_race_at_most_once(validator):
    patient = example("Patient-example")
    patient["extension"].append(copy.deepcopy(patient["extension"][0]))
    assert errors(validator, patient) == [("Patient.extension", "structure", None)]


def test_our_medication_statement_needs_effective(validator):
    statement = medication_statement()
    del statement["effectiveDateTime"]
    assert errors(validator, statement) == [("MedicationStatement.effective", "required", None)]


# ---------------------------------------------------------------- types and reference targets


def test_a_choice_type_the_profile_excludes_fails(validator):
    statement = medication_statement()
    del statement["medicationCodeableConcept"]
    statement["medicationReference"] = {"reference": "Medication/m1"}
    assert errors(validator, statement) == [
        ("MedicationStatement.medication", "required", None),  # no allowed one
        ("MedicationStatement.medicationReference", "structure", None),
    ]


def test_reference_to_a_type_outside_the_target_profiles_fails(validator):
    condition = example("Condition-encounter-diagnosis-example1")
    condition["subject"] = {"reference": "Group/g1"}
    assert errors(validator, condition) == [("Condition.subject", "structure", None)]


# ---------------------------------------------------------------- bindings


def test_required_binding_code_outside_the_value_set_fails(validator):
    condition = example("Condition-health-concern-example")
    condition["clinicalStatus"]["coding"][0]["code"] = "smouldering"
    assert errors(validator, condition) == [("Condition.clinicalStatus", "code-invalid", None)]


def test_extensible_binding_unknown_code_without_text_is_a_warning(validator):
    patient = example("Patient-example")
    patient["identifier"][0]["type"] = {"coding": [{"system": "http://example.org/id-types", "code": "x"}]}
    assert errors(validator, patient) == []
    assert warnings(validator, patient) == [("Patient.identifier[0].type", "code-invalid", None)]
    patient["identifier"][0]["type"]["text"] = "Hospital number"
    assert warnings(validator, patient) == []


# ---------------------------------------------------------------- invariants


def test_profile_invariant_us_core_6_name_needs_family_or_given(validator):
    patient = example("Patient-example")
    patient["name"] = [{"text": "Amy Shaw"}]
    assert errors(validator, patient) == [("Patient.name[0]", "invariant", "us-core-6")]


def test_our_invariant_medication_coded_in_rxnorm(validator):
    statement = medication_statement()
    statement["medicationCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": "372594008"}]}
    assert errors(validator, statement) == [("MedicationStatement.medicationCodeableConcept", "invariant", "psy-ms-1")]


@pytest.mark.parametrize(
    "change, key",
    [
        ({"participant": [{"actor": {"reference": "Practitioner/d1"}, "status": "accepted"}]}, "fua-1"),
        ({"serviceType": None}, "fua-3"),
    ],
)
def test_our_follow_up_appointment_invariants(validator, change, key):
    resource = {k: v for k, v in {**appointment(), **change}.items() if v is not None}
    assert errors(validator, resource) == [("Appointment", "invariant", key)]


def test_booked_follow_up_without_end_fails_the_base_and_our_invariant(validator):
    resource = appointment()
    del resource["end"]
    assert sorted(errors(validator, resource)) == [
        ("Appointment", "invariant", "app-2"),
        ("Appointment", "invariant", "app-3"),
        ("Appointment", "invariant", "fua-2"),
    ]


def test_base_invariant_of_a_data_type_inside_a_dosage(validator):
    request = example("MedicationRequest-medicationrequest-coded-oral-axid")
    request["dosageInstruction"][0]["timing"] = {"repeat": {"duration": 5}}
    assert errors(validator, request) == [
        ("MedicationRequest.dosageInstruction[0].timing.repeat", "invariant", "tim-1")
    ]


def test_base_invariants_run_without_any_profile(validator):
    patient = {
        "resourceType": "Patient",
        "name": [{"family": "Doe", "period": {"start": "2020-02-01", "end": "2020-01-01"}}],
    }
    assert errors(validator, patient) == [("Patient.name[0].period", "invariant", "per-1")]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"contact": [{"gender": "female"}]}, ("Patient.contact[0]", "invariant", "pat-1")),
        ({"maritalStatus": {"id": "m1"}}, ("Patient.maritalStatus", "invariant", "ele-1")),
        ({"contained": [{"resourceType": "Patient", "id": "c1"}]}, ("Patient", "invariant", "dom-3")),
        (
            {
                "contained": [{"resourceType": "Patient", "id": "c1", "meta": {"versionId": "2"}}],
                "link": [{"other": {"reference": "#c1"}, "type": "seealso"}],
            },
            ("Patient", "invariant", "dom-4"),
        ),
        (
            {
                "text": {
                    "status": "generated",
                    "div": '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>',
                }
            },
            ("Patient.text.div", "invariant", "txt-1"),
        ),
        (
            {
                "extension": [
                    {"url": "http://example.org/x", "valueString": "a", "extension": [{"url": "y", "valueString": "b"}]}
                ]
            },
            ("Patient.extension[0]", "invariant", "ext-1"),
        ),
    ],
)
def test_base_r4_invariants(validator, change, expected):
    patient = {"resourceType": "Patient", "gender": "female", **change}
    assert expected in errors(validator, patient)


def test_missing_narrative_is_reported_as_best_practice_information(validator):
    issues = validator.validate("Patient", {"resourceType": "Patient", "gender": "female"})
    assert [(i.severity, i.details) for i in issues] == [("information", "dom-6")]


# ---------------------------------------------------------------- profiles named and required


def test_unknown_profile_is_a_warning_and_an_error_when_strict(validator):
    patient = {"resourceType": "Patient", "meta": {"profile": ["http://example.org/StructureDefinition/nope"]}}
    assert warnings(validator, patient) == [("Patient.meta.profile[0]", "not-supported", None)]
    with pytest.raises(Unprocessable):
        validator.validate("Patient", patient, strict=True)


def test_a_required_profile_applies_to_every_resource_of_the_type():
    strict = Validator(PROJECT_ROOT / "profiles", (("Patient", "us-core-patient"),))
    assert errors(strict, {"resourceType": "Patient", "gender": "female", "name": [{"family": "Doe"}]}) == [
        ("Patient.identifier", "required", None)
    ]


def test_an_unknown_required_profile_stops_the_start():
    with pytest.raises(ValueError):
        Validator(PROJECT_ROOT / "profiles", (("Patient", "no-such-profile"),))


# ---------------------------------------------------------------- fixed and pattern (a test definition)


def _test_definition() -> dict:
    base = json.loads((PROJECT_ROOT / "profiles/StructureDefinition/Patient.json").read_text())
    for element in base["snapshot"]["element"]:
        if element["id"] == "Patient.gender":
            element["fixedCode"] = "female"
        if element["id"] == "Patient.maritalStatus":
            element["patternCodeableConcept"] = {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]
            }
    return {**base, "url": "http://example.org/StructureDefinition/test-patient", "derivation": "constraint"}


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"gender": "male"}, [("Patient.gender", "value", None)]),
        (
            {
                "maritalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "S"}]
                }
            },
            [("Patient.maritalStatus", "value", None)],
        ),
        (
            {
                "maritalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
                            "code": "M",
                            "display": "Married",
                        }
                    ],
                    "text": "married",
                }
            },
            [],
        ),
    ],
)
def test_fixed_and_pattern_values(validator, change, expected):
    definition = compile_definition(_test_definition())
    profiles = validator.profiles
    resource = {"resourceType": "Patient", "gender": "female", **change}
    walk = Walk(resource, profiles.base, profiles.definitions, profiles.terminology, profiles.target_types, frozenset())
    walk.node(resource, definition.root, "Patient", "Patient", True, definition)
    assert [(i.expression[0], i.code, i.details) for i in walk.issues if i.severity == "error"] == expected
