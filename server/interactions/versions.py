"""A single write's checks around the write path: ids, If-Match, the patient compartment."""

from __future__ import annotations

import uuid

from ..fhir.interactions import Interaction
from ..fhir.outcomes import PreconditionFailed
from ..search.registry import ResourceDefinition
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


def store_version(
    ctx: RequestContext,
    conn,
    definition: ResourceDefinition,
    interaction: Interaction,
    resource: dict,
    id: str,
    version_id: int,
    method: str,
    holders: list | None = None,
) -> Version:
    """A single write's new version, through the write path, once the guard allows it."""
    version = write_path.prepare(
        ctx.services, definition, resource, id, version_id, interaction, method, holders=holders
    )
    ctx.guard.check_new(conn, interaction, definition, version.patient_id, write_path.resource_of(version))
    return write_path.commit(ctx, conn, [version])[0]
