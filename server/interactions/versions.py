"""Writing a new version: the server owns id, meta.versionId and meta.lastUpdated (R4 resource.html#Meta)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import orjson

from ..fhir.outcomes import Forbidden, NotFound, PreconditionFailed
from ..search.extract import index_rows, patient_compartment
from ..search.registry import ResourceDefinition
from ..storage.patient_scope import AssignedPatients, PatientScope, reaches
from ..storage.resources import Version, write_version
from .context import RequestContext


def new_id() -> str:
    return str(uuid.uuid4())


def instant(moment: datetime) -> str:
    """FHIR instant, UTC: 2026-11-27T19:20:01.123456Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
                  id: str, version_id: int, method: str) -> Version:
    last_updated = datetime.now(timezone.utc)
    meta = {**resource.get("meta", {}), "versionId": str(version_id), "lastUpdated": instant(last_updated)}
    resource = {**resource, "id": id, "meta": meta}
    patient_id = patient_compartment(definition, resource, ctx.base_url)
    check_compartment(ctx, interaction, definition.type, patient_id, hide=False, conn=conn)
    ctx.policy.require_granular(interaction, definition, resource, ctx.base_url)
    content = orjson.dumps(resource)
    seq = write_version(conn, resource_type=definition.type, id=id, version_id=version_id,
                        last_updated=last_updated, content=content, patient_id=patient_id, method=method,
                        index_rows=index_rows(definition, resource, ctx.base_url), replaces=version_id > 1)
    return Version(definition.type, id, version_id, last_updated, False, content.decode(), method, seq, patient_id)
