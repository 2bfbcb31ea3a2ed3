"""The patients a search or history is filtered to, as the guard (server/auth/guard.py) decides them,
rendered as SQL on a patient_id column (the patient compartment key): one patient id, or the patients
assigned to a practitioner (Patient.generalPractitioner). Storage builds SQL from it; it decides nothing."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class AssignedPatients:
    """Every live Patient whose general-practitioner search parameter references Practitioner/{id}."""

    practitioner_id: str


PatientFilter = str | AssignedPatients | None  # None: no filter

_ASSIGNED = (
    "SELECT p.id FROM resources p JOIN search_reference g ON g.resource_seq = p.seq"
    " WHERE p.resource_type = 'Patient' AND NOT p.deleted AND g.resource_type = 'Patient'"
    " AND g.param = 'general-practitioner' AND g.target_type = 'Practitioner' AND g.target_id = %s"
)


def patient_condition(patients: PatientFilter, column: sql.Composable) -> tuple[sql.Composable, list]:
    """A condition on `column` (a patient_id column) for a filter; the caller skips None."""
    if isinstance(patients, AssignedPatients):
        return sql.SQL("{} IN (" + _ASSIGNED + ")").format(column), [patients.practitioner_id]
    return sql.SQL("{} = %s").format(column), [patients]


def is_assigned(conn: psycopg.Connection, practitioner_id: str, patient_id: str) -> bool:
    """Whether Patient/patient_id names Practitioner/practitioner_id as a general practitioner."""
    row = conn.execute("SELECT EXISTS (" + _ASSIGNED + " AND p.id = %s)", (practitioner_id, patient_id)).fetchone()
    assert row is not None  # the query always returns one row
    return row[0]
