"""create, update and delete (R4 http.html#create, #update, #delete). Each is one transaction."""
from __future__ import annotations

from datetime import datetime, timezone

from ..fhir.outcomes import BadRequest, NotFound
from ..fhir.references import is_valid_id
from ..storage.resources import Version, lock_current, write_deletion
from .context import RequestContext
from .versions import check_compartment, check_if_match, new_id, store_version


def create(ctx: RequestContext, resource_type: str, body) -> Version:
    """A new resource with a server-assigned id; a client's id is ignored (http.html#create)."""
    definition = ctx.definition(resource_type, "create")
    resource = {k: v for k, v in body.items() if k != "id"} if isinstance(body, dict) else body
    ctx.services.validator.validate(resource_type, resource)
    with ctx.services.database.transaction() as conn:
        return store_version(ctx, conn, definition, "create", resource, new_id(), 1, "POST")


def update(ctx: RequestContext, resource_type: str, id: str, body, if_match: str | None) -> tuple[Version, bool]:
    """A new current version, or the first one under a client-chosen id; returns (version, created)."""
    definition = ctx.definition(resource_type, "update")
    ctx.services.validator.validate(resource_type, body)
    if body.get("id") != id:
        raise BadRequest(f"The resource id ({body.get('id')!r}) must equal the id in the URL ({id!r})",
                         expression=f"{resource_type}.id")
    with ctx.services.database.transaction() as conn:
        current = lock_current(conn, resource_type, id)
        check_if_match(current, if_match)
        if current is not None and not current.deleted:
            check_compartment(ctx, "update", resource_type, current.patient_id, hide=False)
        version_id = current.version_id + 1 if current else 1
        version = store_version(ctx, conn, definition, "update", body, id, version_id, "PUT")
    return version, current is None or current.deleted


def delete(ctx: RequestContext, resource_type: str, id: str, if_match: str | None) -> Version | None:
    """Mark deleted, keeping history; deleting a deleted resource changes nothing (http.html#delete)."""
    ctx.definition(resource_type, "delete")
    if not is_valid_id(id):
        raise NotFound(f"{resource_type}/{id} is not known")
    with ctx.services.database.transaction() as conn:
        current = lock_current(conn, resource_type, id)
        if current is None:
            raise NotFound(f"{resource_type}/{id} is not known")
        if current.deleted:
            return None
        check_compartment(ctx, "delete", resource_type, current.patient_id, hide=True)
        check_if_match(current, if_match)
        version_id = current.version_id + 1
        write_deletion(conn, current, version_id, datetime.now(timezone.utc))
    return current
