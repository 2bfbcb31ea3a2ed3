"""[type]/$validate and [type]/{id}/$validate (R4 resource-operation-validate.html): would the
content be accepted? Always an OperationOutcome with 200 when the check ran; nothing is stored."""

from __future__ import annotations

import orjson

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, FhirError, Forbidden, Gone, Issue, NotFound, operation_outcome
from ..fhir.references import is_valid_id
from ..search.extract import patient_compartment
from . import repository
from .context import RequestContext
from .references import check_references, referrers_blocking_delete

MODES = ("create", "update", "delete", "profile")


def validate_parameters(body, mode: str | None, profile: str | None = None) -> tuple[object, str | None, str | None]:
    """(resource, mode, profile) from a Parameters (resource, mode, profile) or a bare resource plus
    ?mode= and ?profile=."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resource = None
        for parameter in body.get("parameter") or []:
            if not isinstance(parameter, dict):
                continue
            if parameter.get("name") == "resource":
                resource = parameter.get("resource")
            elif parameter.get("name") == "mode":
                mode = parameter.get("valueCode", mode)
            elif parameter.get("name") == "profile":
                profile = parameter.get("valueUri") or parameter.get("valueCanonical") or profile
        return resource, mode, profile
    return body, mode, profile


def validate(
    ctx: RequestContext, resource_type: str, id: str | None, body, mode: str | None, profile: str | None = None
) -> dict:
    resource, mode, profile = validate_parameters(body, mode, profile)
    if mode is not None and mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}", location="http.mode")
    if mode in ("update", "delete") and id is None:
        raise BadRequest(f"mode {mode} needs the instance level: [type]/[id]/$validate", location="http.mode")
    ctx.guard.definition(
        ctx.services.registry,
        resource_type,
        Interaction(mode) if mode in ("create", "update", "delete") else Interaction.READ,
    )
    if profile is not None and ctx.services.validator.profiles.resolve(profile) is None:
        return operation_outcome(
            [Issue(f"Profile {profile} is not known to this server", "not-supported", expression=("profile",))]
        )
    warnings: list[Issue] = []
    try:
        if mode == "delete":
            assert id is not None  # refused above without one
            _check_delete(ctx, resource_type, id)
        else:
            warnings = _check_content(ctx, resource_type, id, resource, mode, profile)
    except (NotFound, Gone, Forbidden):
        raise  # the check could not run: a 4xx, not an outcome (resource-operation-validate.html)
    except FhirError as error:
        return operation_outcome(error.issues)
    return operation_outcome(
        warnings or [Issue("Validation successful: no issues found", "informational", "information")]
    )


def _check_content(
    ctx: RequestContext, resource_type: str, id: str | None, resource, mode: str | None, profile: str | None
) -> list[Issue]:
    if resource is None and id is not None and is_valid_id(id):  # instance level: the stored resource
        with ctx.services.database.connection() as conn:
            current = repository.read(ctx, conn, ctx.services.registry.definitions[resource_type], id)
        if current is None or current.deleted:
            raise NotFound(f"{resource_type}/{id} is not known")
        assert current.content is not None  # only a deletion has none
        resource = orjson.loads(current.content)
    if resource is None:
        raise BadRequest("The resource to validate is missing")
    if mode == "create" and isinstance(resource, dict):
        resource = {k: v for k, v in resource.items() if k != "id"}
    warnings = ctx.services.validator.validate(
        resource_type, resource, strict=ctx.strict, profiles=(profile,) if profile else ()
    )
    if mode == "update" and resource.get("id") != id:
        raise BadRequest(
            f"The resource id ({resource.get('id')!r}) must equal {id!r}", expression=f"{resource_type}.id"
        )
    if mode in ("create", "update"):
        definition, interaction = ctx.services.registry.definitions[resource_type], Interaction(mode)
        with ctx.services.database.transaction() as conn:  # rolled back or not, it writes nothing
            if mode == "update":
                assert id is not None  # refused in validate without one
                repository.read(ctx, conn, definition, id, interaction)
            # the write itself would be refused outside the token's compartment or granular scopes (403),
            # before its references are checked (as the write path does)
            ctx.guard.check_new(
                conn, interaction, definition, patient_compartment(definition, resource, ctx.base_url), resource
            )
            check_references(ctx, conn, resource, (resource_type, id or ""), interaction)
    return warnings


def _check_delete(ctx: RequestContext, resource_type: str, id: str) -> None:
    with ctx.services.database.transaction() as conn:
        current = (
            repository.read(ctx, conn, ctx.services.registry.definitions[resource_type], id, Interaction.DELETE)
            if is_valid_id(id)
            else None
        )
        if current is None or current.deleted:
            raise NotFound(f"{resource_type}/{id} is not known")
        referrers_blocking_delete(ctx, conn, resource_type, id, cascade=False)
