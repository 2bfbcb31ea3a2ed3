"""Conditional create, update and delete (R4 http.html#ccreate, #cond-update, #cdelete): the target
is chosen by search criteria instead of an id, inside the write's own transaction."""

from __future__ import annotations

from dataclasses import dataclass

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, PreconditionFailed
from ..search.registry import ResourceDefinition
from . import repository, write_path
from .context import RequestContext
from .matching import matching_ids
from .repository import Version
from .versions import new_id
from .write import create_in, delete_in, prepare_create, update_in


@dataclass(frozen=True)
class Written:
    version: Version
    status: int  # 200: matched and returned or updated; 201: created


def several_matches(criteria: str) -> PreconditionFailed:
    return PreconditionFailed(f"The criteria '{criteria}' match several resources; they must be more selective")


def create_in_if_none_exist(
    ctx: RequestContext, conn, definition: ResourceDefinition, resource: dict, if_none_exist: str, id: str | None = None
) -> Written:
    """One match: the existing resource, 200; none: created, 201; several: 412 (http.html#ccreate)."""
    ids = matching_ids(ctx, conn, definition, if_none_exist, Interaction.CREATE)
    if len(ids) > 1:
        raise several_matches(if_none_exist)
    if ids:
        version = repository.read(ctx, conn, definition, ids[0], Interaction.CREATE)
        assert version is not None  # just matched on this connection
        return Written(version, 200)
    return Written(create_in(ctx, conn, definition, resource, id), 201)


def conditional_create(ctx: RequestContext, resource_type: str, body, if_none_exist: str) -> Written:
    definition, resource = prepare_create(ctx, resource_type, body)
    with write_path.transaction(ctx) as conn:
        return create_in_if_none_exist(ctx, conn, definition, resource, if_none_exist)


def target_of_conditional_update(
    ctx: RequestContext, conn, definition: ResourceDefinition, criteria: str, resource: dict
) -> str:
    """The id a conditional update writes: the one match, or a new id (or the body's) when none."""
    ids = matching_ids(ctx, conn, definition, criteria, Interaction.UPDATE)
    if len(ids) > 1:
        raise several_matches(criteria)
    body_id = resource.get("id")
    if ids and body_id is not None and body_id != ids[0]:
        raise BadRequest(
            f"The resource id ({body_id!r}) differs from the matching resource's ({ids[0]!r})",
            expression=f"{definition.type}.id",
        )
    return ids[0] if ids else (body_id or new_id())


def conditional_update(ctx: RequestContext, resource_type: str, criteria: str, body, if_match: str | None) -> Written:
    """PUT [type]?criteria: update the one match, create when none, 412 when several."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.UPDATE)
    ctx.services.validator.validate(resource_type, body, strict=ctx.strict)
    with write_path.transaction(ctx) as conn:
        return conditional_update_in(ctx, conn, definition, criteria, body, if_match)


def conditional_update_in(
    ctx: RequestContext,
    conn,
    definition: ResourceDefinition,
    criteria: str,
    body: dict,
    if_match: str | None,
    id: str | None = None,
) -> Written:
    id = id or target_of_conditional_update(ctx, conn, definition, criteria, body)
    version, created = update_in(ctx, conn, definition, id, {**body, "id": id}, if_match)
    return Written(version, 201 if created else 200)


def conditional_delete(ctx: RequestContext, resource_type: str, criteria: str, cascade: bool = False) -> list[Version]:
    """DELETE [type]?criteria: the versions deleted (none when nothing matches); several matches
    are 412 unless the server allows multiple deletes (http.html#cdelete)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.DELETE)
    with write_path.transaction(ctx) as conn:
        return conditional_delete_in(ctx, conn, definition, criteria, cascade)


def conditional_delete_in(
    ctx: RequestContext, conn, definition: ResourceDefinition, criteria: str, cascade: bool = False
) -> list[Version]:
    multiple = ctx.services.allow_multiple_delete
    ids = matching_ids(
        ctx, conn, definition, criteria, Interaction.DELETE, limit=ctx.services.max_page_size if multiple else 2
    )
    if len(ids) > 1 and not multiple:
        raise several_matches(criteria)
    deleted = [delete_in(ctx, conn, definition.type, id, None, cascade) for id in ids]
    return [version for version in deleted if version is not None]
