"""create, update and delete (R4 http.html#create, #update, #delete). Each is one transaction.

The `*_in` functions do the work on a connection already inside a transaction, so that a
transaction Bundle (bundle.py) runs many of them in one database transaction."""

from __future__ import annotations

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, NotFound
from ..fhir.references import require_valid_id
from ..search.registry import ResourceDefinition
from . import repository, write_path
from .context import RequestContext
from .references import reference_holders, referrers_blocking_delete, resolve_conditional_references
from .repository import Version
from .versions import check_if_match, new_id, store_version


def prepare_create(ctx: RequestContext, resource_type: str, body) -> tuple[ResourceDefinition, dict]:
    """Policy and validation, before any database work; a client's id is ignored (http.html#create)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.CREATE)
    resource = {k: v for k, v in body.items() if k != "id"} if isinstance(body, dict) else body
    ctx.services.validator.validate(resource_type, resource, strict=ctx.strict)
    return definition, resource


def create(ctx: RequestContext, resource_type: str, body) -> Version:
    """A new resource with a server-assigned id."""
    definition, resource = prepare_create(ctx, resource_type, body)
    if not reference_holders(resource):
        # Nothing to resolve or lock first: the write is one statement, which is its own transaction;
        # an explicit one would add a BEGIN and a COMMIT round trip (~0.3 ms of PostgreSQL CPU).
        with ctx.services.database.connection() as conn:
            return store_version(ctx, conn, definition, Interaction.CREATE, resource, new_id(), 1, "POST", holders=[])
    with write_path.transaction(ctx) as conn:
        return create_in(ctx, conn, definition, resource)


def create_in(
    ctx: RequestContext, conn, definition: ResourceDefinition, resource: dict, id: str | None = None
) -> Version:
    id = id or new_id()
    resolve_conditional_references(ctx, conn, resource)
    return store_version(ctx, conn, definition, Interaction.CREATE, resource, id, 1, "POST")


def prepare_update(ctx: RequestContext, resource_type: str, id: str, body) -> ResourceDefinition:
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.UPDATE)
    ctx.services.validator.validate(resource_type, body, strict=ctx.strict)
    if body.get("id") != id:
        raise BadRequest(
            f"The resource id ({body.get('id')!r}) must equal the id in the URL ({id!r})",
            expression=f"{resource_type}.id",
        )
    return definition


def update(ctx: RequestContext, resource_type: str, id: str, body, if_match: str | None) -> tuple[Version, bool]:
    """A new current version, or the first one under a client-chosen id; returns (version, created)."""
    definition = prepare_update(ctx, resource_type, id, body)
    with write_path.transaction(ctx) as conn:
        return update_in(ctx, conn, definition, id, body, if_match)


def update_in(
    ctx: RequestContext, conn, definition: ResourceDefinition, id: str, resource: dict, if_match: str | None
) -> tuple[Version, bool]:
    current = repository.lock(ctx, conn, definition, id, Interaction.UPDATE)
    check_if_match(current, if_match)
    resolve_conditional_references(ctx, conn, resource)
    version_id = current.version_id + 1 if current else 1
    version = store_version(ctx, conn, definition, Interaction.UPDATE, resource, id, version_id, "PUT")
    return version, current is None or current.deleted


def delete(
    ctx: RequestContext, resource_type: str, id: str, if_match: str | None, cascade: bool = False
) -> Version | None:
    """Mark deleted, keeping history; deleting a deleted resource changes nothing (http.html#delete).
    Returns the version deleted, or None when it was deleted already."""
    ctx.guard.definition(ctx.services.registry, resource_type, Interaction.DELETE)
    require_valid_id(resource_type, id)
    with write_path.transaction(ctx) as conn:
        return delete_in(ctx, conn, resource_type, id, if_match, cascade)


def delete_in(
    ctx: RequestContext,
    conn,
    resource_type: str,
    id: str,
    if_match: str | None,
    cascade: bool = False,
    _visited: set | None = None,
) -> Version | None:
    """Referrers block a delete (409) unless cascading, which deletes them first, recursively."""
    current = repository.lock(ctx, conn, ctx.services.registry.definitions[resource_type], id, Interaction.DELETE)
    if current is None:
        raise NotFound(f"{resource_type}/{id} is not known")
    if current.deleted:
        return None
    check_if_match(current, if_match)
    visited = _visited if _visited is not None else set()
    visited.add((resource_type, id))
    for referrer_type, referrer_id in referrers_blocking_delete(ctx, conn, resource_type, id, cascade):
        if (referrer_type, referrer_id) not in visited:
            ctx.guard.definition(ctx.services.registry, referrer_type, Interaction.DELETE)
            delete_in(ctx, conn, referrer_type, referrer_id, None, True, visited)
    write_path.commit(ctx, conn, [write_path.deletion(current)])
    return current
