"""The patients an access policy confines a request to, rendered as SQL on resources.patient_id (the
patient compartment key): None (unconfined), one patient id, or the patients assigned to a practitioner
(Patient.generalPractitioner, SMART app-launch.html#scopes: user/ scopes reach what the user may)."""
from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class AssignedPatients:
    """Every live Patient whose general-practitioner search parameter references Practitioner/{id}."""
    practitioner_id: str


PatientScope = str | AssignedPatients | None

_ASSIGNED = ("SELECT p.id FROM resources p JOIN search_reference g ON g.resource_seq = p.seq"
             " WHERE p.resource_type = 'Patient' AND NOT p.deleted AND g.resource_type = 'Patient'"
             " AND g.param = 'general-practitioner' AND g.target_type = 'Practitioner' AND g.target_id = %s")


def patient_condition(scope: PatientScope, column: sql.Composable) -> tuple[sql.Composable, list]:
    """A condition on `column` (a patient_id column) for a confined scope; the caller skips None."""
    if isinstance(scope, AssignedPatients):
        return sql.SQL("{} IN (" + _ASSIGNED + ")").format(column), [scope.practitioner_id]
    return sql.SQL("{} = %s").format(column), [scope]


def reaches(conn: psycopg.Connection, scope: PatientScope, patient_id: str | None) -> bool:
    """Whether a resource in patient_id's compartment (None: in none) is within the scope."""
    if scope is None:
        return True
    if patient_id is None:
        return False
    if isinstance(scope, AssignedPatients):
        query = "SELECT EXISTS (" + _ASSIGNED + " AND p.id = %s)"
        return conn.execute(query, (scope.practitioner_id, patient_id)).fetchone()[0]
    return patient_id == scope
