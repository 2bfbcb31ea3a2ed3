"""Valid resources of the five types, small and psychiatric-medication flavoured."""

from __future__ import annotations

MRN = "http://hospital.example/mrn"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def patient(mrn: str = "12345", family: str = "Doe", **fields) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": MRN, "value": mrn}],
        "name": [{"family": family, "given": ["Jane"]}],
        "gender": "female",
        "birthDate": "1980-04-02",
        **fields,
    }


def medication_request(patient_id: str, status: str = "active", **fields) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "312938", "display": "sertraline 50 MG Oral Tablet"}]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": "2026-06-01",
        "dosageInstruction": [{"text": "50 mg once daily"}],
        **fields,
    }


def condition(patient_id: str, **fields) -> dict:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "35489007", "display": "Depressive disorder"}]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        **fields,
    }


def medication_statement(patient_id: str, **fields) -> dict:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "312938"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        **fields,
    }


def appointment(patient_id: str, **fields) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-12-01T09:00:00Z",
        "end": "2026-12-01T09:30:00Z",
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
        **fields,
    }


def medication_dispense(
    patient_id: str, code: str = "312941", when: str = "2026-06-01", days: int = 30, **fields
) -> dict:
    return {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "whenHandedOver": when,
        "quantity": {"value": days, "unit": "tablet"},
        "daysSupply": {"value": days, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
        **fields,
    }


def group(member_ids: list[str], identifier: str = "roster-1", **fields) -> dict:
    """A payer's member roster: an actual person Group whose members are Patients."""
    return {
        "resourceType": "Group",
        "type": "person",
        "actual": True,
        "identifier": [{"system": "http://payer.example/roster", "value": identifier}],
        "characteristic": [
            {
                "code": {"coding": [{"system": "http://payer.example/plan", "code": "gold"}]},
                "valueBoolean": True,
                "exclude": False,
            }
        ],
        "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in member_ids],
        **fields,
    }
