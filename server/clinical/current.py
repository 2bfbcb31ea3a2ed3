"""Which of a patient's medication resources are current, as Medication facts."""

from __future__ import annotations

from datetime import date

from .engine import Condition
from .knowledge import Knowledge
from .medications import Medication, medication
from .records import PatientRecord

CURRENT_STATEMENT = {"active", "intended"}


def current_medications(knowledge: Knowledge, record: PatientRecord, today: date) -> list[Medication]:
    """Active requests and statements, and completed dispenses whose days' supply has not run out."""
    found = []
    for resource in record.resources["medicationRequests"]:
        if resource.get("status") == "active" and resource.get("intent") != "plan":
            found.append(medication(knowledge, resource))
    for resource in record.resources["medicationStatements"]:
        if resource.get("status") in CURRENT_STATEMENT:
            found.append(medication(knowledge, resource))
    for resource in record.resources["medicationDispenses"]:
        fact = medication(knowledge, resource)
        if resource.get("status") == "completed" and fact.end is not None and fact.end >= today:
            found.append(fact)
    return found


def diagnoses(record: PatientRecord) -> list[Condition]:
    """Every coding of the patient's active Conditions."""
    return [
        Condition(coding.get("system", ""), coding["code"])
        for condition in record.active_conditions()
        for coding in (condition.get("code") or {}).get("coding") or []
        if coding.get("code")
    ]
