"""A single write's checks around the write path: ids, If-Match, the patient compartment."""
from __future__ import annotations

import uuid

from ..fhir.outcomes import Forbidden, NotFound, PreconditionFailed
from ..search.registry import ResourceDefinition
from ..storage.patient_scope import AssignedPatients, PatientScope, reaches
from ..storage.resources import Version
from . import write_path
from .context import RequestContext
from .write_path import instant  # noqa: F401 (re-exported: FHIR instants for responses)


def new_id() -> str:
    return str(uuid.uuid4())


def check_if_match(current: Version | None, if_match: str | None) -> None:
    """R4 http.html#concurrency: a stale If-Match version -> 412."""
    if if_match is None:
        return
    if current is None or current.deleted or str(current.version_id) != if_match:
        found = "none" if current is None or current.deleted else current.version_id
        raise PreconditionFailed(f"If-Match version {if_match} does not match the current version ({found})")


def check_compartment(ctx: RequestContext, interaction: str, resource_type: str, patient_id: str | None,
                      hide: bool, conn=None) -> None:
    """patient/ scopes (and user/ scopes of a Patient, or of a Practitioner limited to their assigned
    patients) reach only those patients' compartments; reads outside them look like a 404. `conn`: the
    caller's connection or transaction, when it has one."""
    if not in_patient_scope(ctx, ctx.policy.compartment_patient(interaction, resource_type), patient_id, conn):
        if hide:
            raise NotFound(f"{resource_type} is not in the patient's compartment")
        raise Forbidden(f"The granted scopes do not reach this {resource_type}'s patient")


def in_patient_scope(ctx: RequestContext, scope: PatientScope, patient_id: str | None, conn=None) -> bool:
    """Whether patient_id's compartment is within the policy's patient scope."""
    if conn is None and isinstance(scope, AssignedPatients):
        with ctx.services.database.connection() as own:
            return reaches(own, scope, patient_id)
    return reaches(conn, scope, patient_id)


def store_version(ctx: RequestContext, conn, definition: ResourceDefinition, interaction: str, resource: dict,
                  id: str, version_id: int, method: str, holders: list | None = None) -> Version:
    """A single write's new version, through the write path, once the policy allows its compartment."""
    version = write_path.prepare(ctx.services, definition, resource, id, version_id, interaction, method,
                                 holders=holders)
    check_compartment(ctx, interaction, definition.type, version.patient_id, hide=False, conn=conn)
    ctx.policy.require_granular(interaction, definition, version.resource, ctx.base_url)
    return write_path.commit(ctx, conn, [version])[0]
