import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load(relative):
    return json.loads((ROOT / relative).read_text(encoding="utf-8"))


def binding(resource_type, path):
    entries = [b for b in load("profiles/required-bindings.json")[resource_type] if b["path"] == path]
    assert len(entries) == 1, f"{path}: {entries}"
    return entries[0]


def test_required_bindings_have_patient_gender_with_its_four_codes():
    gender = binding("Patient", "Patient.gender")
    assert gender["type"] == "code"
    assert gender["valueSet"].startswith("http://hl7.org/fhir/ValueSet/administrative-gender")
    assert gender["codes"] == [
        {"system": "http://hl7.org/fhir/administrative-gender", "code": c}
        for c in ("male", "female", "other", "unknown")
    ]


def test_required_bindings_have_medication_request_status_with_its_eight_codes():
    status = binding("MedicationRequest", "MedicationRequest.status")
    assert {c["system"] for c in status["codes"]} == {"http://hl7.org/fhir/CodeSystem/medicationrequest-status"}
    assert sorted(c["code"] for c in status["codes"]) == sorted(
        ["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"]
    )


def test_medication_request_definition_has_the_patient_reference_param():
    definition = load("resources/MedicationRequest.json")
    params = {p["name"]: p for p in definition["searchParam"]}
    assert params["patient"]["type"] == "reference"
    assert params["patient"]["expression"] == "MedicationRequest.subject.where(resolve() is Patient)"
    assert "Patient" in params["patient"]["target"]
