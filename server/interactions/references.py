"""Referential integrity (R4 references.html): conditional references are resolved, a reference to a
local resource must resolve, and a resource still referred to is not deleted (unless cascading)."""

from __future__ import annotations

from ..fhir.interactions import Interaction
from ..fhir.outcomes import Conflict, Issue, Unprocessable
from ..fhir.references import parse_reference
from . import repository
from .context import RequestContext, Services
from .matching import matching_ids

MAX_NAMED_REFERRERS = 20


def reference_slots(node, path: str):
    """(holder dict, expression) of every Reference-shaped element: a dict with a string `reference`."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node, path
        for key, child in node.items():
            if isinstance(child, (dict, list)):
                yield from reference_slots(child, f"{path}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from reference_slots(child, f"{path}[{index}]")


def reference_holders(resource: dict) -> list[dict]:
    """The Reference-shaped elements of a resource, in document order: reference_slots without the
    paths, which only an error needs (expression_of)."""
    found: list[dict] = []
    _collect_holders(resource, found)
    return found


def _collect_holders(node, found: list[dict]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            found.append(node)
        children = node.values()
    else:
        children = node
    for child in children:
        if isinstance(child, (dict, list)):
            _collect_holders(child, found)


def expression_of(resource: dict, holder: dict) -> str:
    root = resource.get("resourceType", "Resource")
    return next((path for slot, path in reference_slots(resource, root) if slot is holder), root)


def _is_conditional(value: str) -> bool:
    head = value.partition("?")[0]
    return "?" in value and "/" not in head and head[:1].isupper()


def has_conditional_references(resource: dict) -> bool:
    return any(_is_conditional(holder["reference"]) for holder in reference_holders(resource))


def resolve_conditional_references(ctx: RequestContext, conn, resource: dict) -> None:
    """`Patient?identifier=sys|123` -> `Patient/<id>`: exactly one match, else 422 (R4
    http.html#trules: no match or several fail the interaction)."""
    for holder in reference_holders(resource):
        value = holder["reference"]
        if not _is_conditional(value):
            continue
        target_type = value.partition("?")[0]
        definition = ctx.guard.definition(ctx.services.registry, target_type, Interaction.SEARCH_TYPE)
        ids = matching_ids(ctx, conn, definition, value, Interaction.SEARCH_TYPE)
        if len(ids) != 1:
            found = "no resource" if not ids else "several resources"
            raise Unprocessable(
                f"Conditional reference '{value}' matches {found}; it must match exactly one",
                expression=expression_of(resource, holder),
            )
        holder["reference"] = f"{target_type}/{ids[0]}"


def local_targets(services: Services, resource: dict, holders: list | None = None) -> dict[tuple[str, str], dict]:
    """(type, id) of every reference to a resource this server holds -> the element of its first use."""
    found: dict[tuple[str, str], dict] = {}
    types = services.registry.definitions
    for holder in reference_holders(resource) if holders is None else holders:
        reference = parse_reference(holder["reference"])
        if reference is None or reference.resource_type not in types:
            continue
        if reference.base is not None and reference.base.rstrip("/") != services.base_url:
            continue  # another server's resource
        found.setdefault((reference.resource_type, reference.id), holder)
    return found


UNRESOLVED = "refers to resources that do not exist or are outside the granted scopes"


def unresolved_reference_issues(resource: dict, targets: dict[tuple[str, str], dict], missing) -> list[Issue]:
    """One issue per reference that does not resolve: the same words whether the target does not exist or
    is another patient's (the response must not reveal which)."""
    return [
        Issue(
            f"Reference {t}/{i} does not resolve to a resource this request may refer to",
            "not-found",
            expression=(expression_of(resource, targets[(t, i)]),),
        )
        for t, i in sorted(missing)
    ]


def check_references(
    ctx: RequestContext, conn, resource: dict, self_key: tuple[str, str], interaction: Interaction = Interaction.CREATE
) -> None:
    """$validate's check (writes have write_path's): 422 naming every local reference that does not
    resolve, unless dangling references are allowed."""
    if ctx.services.allow_dangling_references:
        return
    targets = local_targets(ctx.services, resource)
    for key in (self_key, *ctx.pending_targets):
        targets.pop(key, None)
    resource_type = str(resource.get("resourceType"))
    missing = set(targets) - repository.referable(ctx, conn, interaction, resource_type, list(targets))
    if missing:
        raise Unprocessable(
            f"{resource_type} {UNRESOLVED}",
            issues=unresolved_reference_issues(resource, targets, missing),
        )


def referrers_blocking_delete(
    ctx: RequestContext, conn, resource_type: str, id: str, cascade: bool
) -> list[tuple[str, str]]:
    """The live resources referring to resource_type/id; 409 naming them unless cascading."""
    # the security log refers to what it recorded; it never keeps a resource alive, nor is it deleted with it
    found = repository.referrers(
        ctx, conn, resource_type, id, limit=10_000 if cascade else MAX_NAMED_REFERRERS + 1, ignoring=("AuditEvent",)
    )
    if found and not cascade:
        # only what the token may read is named: another patient's referrer is counted, not identified
        listed = found[:MAX_NAMED_REFERRERS]
        seen = repository.visible(ctx, conn, listed)
        shown = [(t, i) for t, i in listed if (t, i) in seen]
        parts = [f"{t}/{i}" for t, i in shown]
        if len(shown) < len(listed):
            parts.append(f"{len(listed) - len(shown)} resource(s) the granted scopes do not reach")
        more = " and more" if len(found) > MAX_NAMED_REFERRERS else ""
        message = (
            f"{resource_type}/{id} is still referenced by {', '.join(parts)}{more}; delete those first"
            " or use _cascade=delete where the server allows it"
        )
        raise Conflict(
            message,
            issues=[Issue(message, "conflict")]
            + [Issue(f"{resource_type}/{id} is referenced by {t}/{i}", "conflict", "information") for t, i in shown],
        )
    return found
