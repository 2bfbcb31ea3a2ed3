"""patch (R4 http.html#patch): JSON Patch (RFC 6902) or FHIRPath Patch (a Parameters resource),
applied to the current version inside the write's transaction; the result is validated like any
write, so a patch that makes the resource invalid is a 422 and changes nothing."""

from __future__ import annotations

import copy

import jsonpatch
import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, FhirError, Gone, NotFound, PreconditionFailed, Unprocessable
from ..fhir.references import require_valid_id
from ..search.registry import ResourceDefinition
from . import repository, write_path
from .context import RequestContext
from .fhirpath_patch import apply_operation, parse_operations
from .matching import matching_ids
from .references import resolve_conditional_references
from .repository import Version
from .versions import check_if_match, store_version

JSON_PATCH = "json-patch"
FHIRPATH_PATCH = "fhirpath-patch"


def patch_kind(mimetype: str, body) -> str:
    """JSON Patch for application/json-patch+json (or a JSON array), FHIRPath Patch for a Parameters."""
    if mimetype == "application/json-patch+json" or isinstance(body, list):
        return JSON_PATCH
    return FHIRPATH_PATCH


def patch(ctx: RequestContext, resource_type: str, id: str, body, kind: str, if_match: str | None) -> Version:
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.PATCH)
    require_valid_id(resource_type, id)
    with write_path.transaction(ctx) as conn:
        return patch_in(ctx, conn, definition, id, body, kind, if_match)


def conditional_patch(
    ctx: RequestContext, resource_type: str, criteria: str, body, kind: str, if_match: str | None
) -> Version:
    """PATCH [type]?criteria: the one match is patched; none is 404, several 412 (http.html#patch)."""
    definition = ctx.guard.definition(ctx.services.registry, resource_type, Interaction.PATCH)
    with write_path.transaction(ctx) as conn:
        ids = matching_ids(ctx, conn, definition, criteria, Interaction.PATCH)
        if not ids:
            raise NotFound(f"No {resource_type} matches '{criteria}'")
        if len(ids) > 1:
            raise PreconditionFailed(f"The criteria '{criteria}' match several resources")
        return patch_in(ctx, conn, definition, ids[0], body, kind, if_match)


def patch_in(
    ctx: RequestContext, conn, definition: ResourceDefinition, id: str, body, kind: str, if_match: str | None
) -> Version:
    current = repository.lock(ctx, conn, definition, id, Interaction.PATCH)
    if current is None:
        raise NotFound(f"{definition.type}/{id} is not known")
    if current.deleted:
        raise Gone(f"{definition.type}/{id} was deleted")
    check_if_match(current, if_match)
    assert current.content is not None  # only a deletion has none
    resource = apply_patch(ctx, orjson.loads(current.content), body, kind)
    if resource.get("resourceType") != definition.type or resource.get("id") != id:
        raise Unprocessable("A patch may not change the resource's type or id")
    ctx.services.validator.validate(definition.type, resource, strict=ctx.strict)
    resolve_conditional_references(ctx, conn, resource)
    return store_version(ctx, conn, definition, Interaction.PATCH, resource, id, current.version_id + 1, "PATCH")


def apply_patch(ctx: RequestContext, resource: dict, body, kind: str) -> dict:
    if kind == JSON_PATCH:
        return _json_patch(resource, body)
    patched = resource
    for operation in parse_operations(body):
        patched = _fhirpath_operation(ctx, patched, operation)
    return patched


def _json_patch(resource: dict, body) -> dict:
    if not isinstance(body, list):
        raise BadRequest("A JSON Patch body must be an array of operations (RFC 6902)")
    try:
        return jsonpatch.JsonPatch(body).apply(resource)
    except jsonpatch.JsonPatchTestFailed as error:
        raise Unprocessable(f"JSON Patch test failed: {error}") from None
    except (jsonpatch.InvalidJsonPatch, TypeError, ValueError) as error:
        raise BadRequest(f"Invalid JSON Patch: {error}") from None
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPointerException) as error:
        raise Unprocessable(f"JSON Patch cannot be applied: {error}") from None


def _issue_count(ctx: RequestContext, resource: dict) -> int:
    try:
        ctx.services.validator.validate(resource["resourceType"], resource, strict=ctx.strict)
    except FhirError as error:
        return len(error.issues)
    return 0


def _fhirpath_operation(ctx: RequestContext, resource: dict, operation) -> dict:
    single = copy.deepcopy(resource)
    apply_operation(single, operation, as_list=False)
    if operation.type != "add":
        return single
    # an element added where none was: its cardinality decides scalar or list; the models know it
    listed = copy.deepcopy(resource)
    apply_operation(listed, operation, as_list=True)
    if listed != single and _issue_count(ctx, listed) < _issue_count(ctx, single):
        return listed
    return single
