"""Synthetic psychiatric-medication records in bulk, loaded through the COPY fast path: for the
index-usage test and the search benchmark."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from server.fhir.interactions import Interaction
from server.interactions import write_path
from server.interactions.context import operator_context

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DRUGS = [
    ("312938", "sertraline 50 MG"),
    ("313989", "fluoxetine 20 MG"),
    ("197361", "lithium carbonate 300 MG"),
    ("349332", "escitalopram 10 MG"),
    ("312615", "quetiapine 100 MG"),
    ("859975", "aripiprazole 5 MG"),
]
DIAGNOSES = [
    ("35489007", "Depressive disorder"),
    ("13746004", "Bipolar disorder"),
    ("197480006", "Anxiety disorder"),
    ("58214004", "Schizophrenia"),
]
FAMILIES = ["Garcia", "Smith", "Nguyen", "Okafor", "Müller", "Kowalski", "Haddad", "Tanaka", "Silva", "Johansson"]
STATUSES = ["active", "active", "active", "on-hold", "completed", "stopped"]
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _patient(rng: random.Random, number: int) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "http://hospital.example/mrn", "value": f"MRN{number:08d}"}],
        "name": [{"family": rng.choice(FAMILIES), "given": [rng.choice(["Ana", "Ben", "Chen", "Dara", "Eli"])]}],
        "gender": rng.choice(["female", "male", "other"]),
        "birthDate": (datetime(1940, 1, 1) + timedelta(days=rng.randrange(25000))).strftime("%Y-%m-%d"),
        "meta": {"source": f"http://ehr.example/feeds/{number % 500}"},
    }


def _clinical(rng: random.Random, resource_type: str, patient_id: str) -> dict:
    subject = {"reference": f"Patient/{patient_id}"}
    when = (EPOCH + timedelta(days=rng.randrange(2400))).strftime("%Y-%m-%d")
    code, display = rng.choice(DRUGS)
    drug = {"coding": [{"system": RXNORM, "code": code, "display": display}]}
    if resource_type == "MedicationRequest":
        return {
            "resourceType": resource_type,
            "status": rng.choice(STATUSES),
            "intent": "order",
            "subject": subject,
            "medicationCodeableConcept": drug,
            "authoredOn": when,
        }
    if resource_type == "MedicationStatement":
        return {
            "resourceType": resource_type,
            "status": rng.choice(["active", "completed"]),
            "subject": subject,
            "medicationCodeableConcept": drug,
            "effectiveDateTime": when,
        }
    if resource_type == "Condition":
        code, display = rng.choice(DIAGNOSES)
        return {
            "resourceType": resource_type,
            "subject": subject,
            "recordedDate": when,
            "onsetAge": {"value": rng.randrange(8, 80), "system": "http://unitsofmeasure.org", "code": "a"},
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
        }
    return {
        "resourceType": "Appointment",
        "status": rng.choice(["booked", "fulfilled", "cancelled"]),
        "start": f"{when}T09:00:00Z",
        "end": f"{when}T09:30:00Z",
        "participant": [{"actor": subject, "status": "accepted"}],
    }


# Per patient: 4 MedicationRequests, 1 MedicationStatement, 2 Conditions, 2 Appointments (10 resources).
PER_PATIENT = ["MedicationRequest"] * 4 + ["MedicationStatement"] + ["Condition"] * 2 + ["Appointment"] * 2


def records(count: int, seed: int = 7):
    """About `count` resources: patients, each followed by their clinical resources."""
    rng = random.Random(seed)
    for number in range(count // (len(PER_PATIENT) + 1)):
        patient_id = str(uuid.UUID(int=rng.getrandbits(128)))
        yield {**_patient(rng, number), "id": patient_id}
        for resource_type in PER_PATIENT:
            yield {**_clinical(rng, resource_type, patient_id), "id": str(uuid.UUID(int=rng.getrandbits(128)))}


def load(services, count: int, batch: int = 5000, on_batch=lambda n: None) -> int:
    """Load about `count` synthetic resources through the write path (COPY for many); return how many."""
    now = datetime.now(UTC)
    pending, loaded = [], 0
    for resource in records(count):
        definition = services.registry.get(resource["resourceType"])
        pending.append(
            write_path.prepare(services, definition, resource, resource["id"], 1, Interaction.IMPORT, "POST", now)
        )
        if len(pending) == batch:
            loaded += _flush(services, pending, on_batch)
    return loaded + _flush(services, pending, on_batch)


def _flush(services, pending: list, on_batch) -> int:
    ctx = operator_context(services, "synthetic")
    with write_path.transaction(ctx) as conn:
        write_path.commit(ctx, conn, pending)
    count = len(pending)
    on_batch(count)
    pending.clear()
    return count
