"""read and search of the conformance resources the server ships (R4 http.html#read, #search): the
StructureDefinitions, ValueSets, CodeSystems, OperationDefinitions and SearchParameters in profiles/, read-only,
from memory."""

from __future__ import annotations

from urllib.parse import urlencode

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, NotFound
from .context import RequestContext

CONFORMANCE_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem", "OperationDefinition", "SearchParameter")
# Search parameters (R4 structuredefinition.html#search, valueset.html#search, codesystem.html#search,
# operationdefinition.html#search, searchparameter.html#search).
SEARCH_PARAMS = {
    "StructureDefinition": ("_id", "url", "version", "name", "type"),
    "ValueSet": ("_id", "url", "version", "name"),
    "CodeSystem": ("_id", "url", "version", "name"),
    "OperationDefinition": ("_id", "url", "version", "name", "code"),
    "SearchParameter": ("_id", "url", "version", "name", "code", "base", "type"),
}
IGNORED = ("_format", "_pretty", "_count", "_total")
# Operations on them (R4 valueset-operation-expand.html, -validate-code.html, codesystem-operation-lookup.html).
OPERATIONS = {
    "ValueSet": (
        {"name": "expand", "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"},
        {"name": "validate-code", "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code"},
    ),
    "CodeSystem": ({"name": "lookup", "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"},),
}
PARAM_TYPES = {
    "_id": "token",
    "url": "uri",
    "version": "token",
    "name": "string",
    "type": "token",
    "code": "token",
    "base": "token",
}


def capability_entries() -> tuple[dict, ...]:
    """The CapabilityStatement.rest.resource entries of the shipped conformance resources."""
    return tuple(
        {
            "type": t,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{t}",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": PARAM_TYPES[n]} for n in SEARCH_PARAMS[t]],
            **({"operation": list(OPERATIONS[t])} if t in OPERATIONS else {}),
        }
        for t in CONFORMANCE_TYPES
    )


def supported_profiles(services, types) -> dict[str, list[str]]:
    """type -> the urls of the profiles the validator enforces for it (CapabilityStatement.supportedProfile)."""
    profiles = services.validator.profiles
    return {t: sorted(d.url for d in profiles.profiles_of(t)) for t in types}


def shipped(ctx: RequestContext, resource_type: str) -> list[dict]:
    """Every shipped resource of the type, in a stable order."""
    profiles = ctx.services.validator.profiles
    if resource_type == "StructureDefinition":
        found = [d.raw for d in profiles.definitions.values()]
    elif resource_type == "ValueSet":
        found = [v.raw for v in profiles.terminology.value_sets.values()]
    elif resource_type == "CodeSystem":
        found = [c.raw for c in profiles.terminology.code_systems.values()]
    elif resource_type == "OperationDefinition":
        found = list(profiles.operations.values())
    elif resource_type == "SearchParameter":
        found = list(profiles.search_parameters.values())
    else:
        raise NotFound(f"Resource type '{resource_type}' is not supported")
    return sorted(found, key=lambda r: r["id"])


def read(ctx: RequestContext, resource_type: str, id: str) -> dict:
    ctx.guard.require(Interaction.READ, resource_type)
    for resource in shipped(ctx, resource_type):
        if resource["id"] == id:
            return resource
    raise NotFound(f"{resource_type}/{id} is not known")


def _matches(resource: dict, name: str, value: str) -> bool:
    values = value.split(",")  # R4 search.html#combining: a comma is OR
    if name == "_id":
        return resource["id"] in values
    if name == "url":  # uri: exact; a canonical's |version is honoured
        return any(
            resource.get("url") == v.split("|")[0] and ("|" not in v or resource.get("version") == v.split("|")[1])
            for v in values
        )
    if name in ("version", "type", "code"):
        return resource.get(name) in values
    if name == "base":  # a list of resource types
        return any(v in resource.get("base", []) for v in values)
    if name == "name":  # string: case-insensitive starts-with
        return any(str(resource.get("name", "")).lower().startswith(v.lower()) for v in values)
    return False


def search(ctx: RequestContext, resource_type: str, pairs: list[tuple[str, str]]) -> dict:
    """A searchset Bundle of every shipped resource matching all the parameters (unknown ones: 400)."""
    ctx.guard.require(Interaction.SEARCH_TYPE, resource_type)
    found = shipped(ctx, resource_type)
    for name, value in pairs:
        if name in IGNORED:
            continue
        if name not in SEARCH_PARAMS[resource_type]:
            raise BadRequest(
                f"Unknown search parameter '{name}' for {resource_type}; supported:"
                f" {', '.join(SEARCH_PARAMS[resource_type])}",
                expression=name,
            )
        found = [r for r in found if _matches(r, name, value)]
    base = f"{ctx.base_url}/{resource_type}"
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": [{"relation": "self", "url": f"{base}?{urlencode(pairs)}" if pairs else base}],
        "entry": [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in found],
    }


def operation_definition(ctx: RequestContext, id: str) -> dict:
    """One of this server's OperationDefinitions, by id, for the operation's own parameter checks (no access
    decision: the definitions hold no patient data, and the operation's route asks the guard for its own)."""
    found = ctx.services.validator.profiles.operations.get(id)
    if found is None:
        raise NotFound(f"OperationDefinition/{id} is not known")
    return found
