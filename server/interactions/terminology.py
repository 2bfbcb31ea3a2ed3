"""ValueSet/$expand, ValueSet/$validate-code and CodeSystem/$lookup on the shipped value sets and code
systems (R4 valueset-operation-expand.html, valueset-operation-validate-code.html,
codesystem-operation-lookup.html). The expansions were computed at build time; nothing is fetched."""

from __future__ import annotations

from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest, NotFound
from ..validation.terminology import ValueSet
from .context import RequestContext

MAX_COUNT = 1000


def _value_set(ctx: RequestContext, id: str | None, url: str | None) -> ValueSet:
    ctx.guard.require(Interaction.READ, "ValueSet")
    terminology = ctx.services.validator.profiles.terminology
    if id is not None:
        found = next((v for v in terminology.value_sets.values() if v.raw["id"] == id), None)
    elif url:
        found = terminology.value_set(url)
    else:
        raise BadRequest("Name the value set: ValueSet/[id]/$expand or the url parameter", location="http.url")
    if found is None:
        raise NotFound(f"ValueSet {id or url} is not known to this server")
    return found


def _int(value, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a non-negative integer", location=f"http.{name}") from None
    if number < 0:
        raise BadRequest(f"{name} must be a non-negative integer", location=f"http.{name}")
    return number


def expand(ctx: RequestContext, id: str | None, params: dict) -> dict:
    """The value set with its expansion, narrowed by `filter` (case-insensitive, code or display) and
    paged by `offset` and `count`."""
    value_set = _value_set(ctx, id, params.get("url"))
    text = (params.get("filter") or "").lower()
    contains = [
        c for c in value_set.contains if not text or text in c["code"].lower() or text in c.get("display", "").lower()
    ]
    offset, count = (
        _int(params.get("offset"), "offset", 0),
        min(_int(params.get("count"), "count", MAX_COUNT), MAX_COUNT),
    )
    parameters = [{"name": "offset", "valueInteger": offset}, {"name": "count", "valueInteger": count}]
    if text:
        parameters.insert(0, {"name": "filter", "valueString": params["filter"]})
    expansion = {
        **value_set.raw["expansion"],
        "total": len(contains),
        "offset": offset,
        "parameter": parameters,
        "contains": contains[offset : offset + count],
    }
    return {**{k: v for k, v in value_set.raw.items() if k not in ("compose", "expansion")}, "expansion": expansion}


def _codings(params: dict) -> list[dict]:
    if isinstance(params.get("codeableConcept"), dict):
        return [c for c in params["codeableConcept"].get("coding", []) if isinstance(c, dict)]
    if isinstance(params.get("coding"), dict):
        return [params["coding"]]
    if params.get("code"):
        return [{"system": params.get("system"), "code": params["code"], "display": params.get("display")}]
    raise BadRequest("Give a code (with system), a coding or a codeableConcept", location="http.code")


def validate_code(ctx: RequestContext, id: str | None, params: dict) -> dict:
    """Parameters(result, message, display): is one of the codes given in the value set?"""
    value_set = _value_set(ctx, id, params.get("url"))
    for coding in _codings(params):
        entry = next(
            (
                c
                for c in value_set.contains
                if c["code"] == coding.get("code") and (coding.get("system") is None or c["system"] == coding["system"])
            ),
            None,
        )
        if entry is None:
            continue
        parameters = [{"name": "result", "valueBoolean": True}]
        if entry.get("display"):
            parameters.append({"name": "display", "valueString": entry["display"]})
        given = coding.get("display")
        if given and entry.get("display") and given.lower() != entry["display"].lower():
            parameters.append(
                {
                    "name": "message",
                    "valueString": f"The display {given!r} is not the display of {entry['code']}: {entry['display']!r}",
                }
            )
        return {"resourceType": "Parameters", "parameter": parameters}
    codes = ", ".join(f"{c.get('system') or ''}|{c.get('code')}" for c in _codings(params))
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "result", "valueBoolean": False},
            {"name": "message", "valueString": f"{codes} is not in the value set {value_set.url}"},
        ],
    }


def lookup(ctx: RequestContext, params: dict) -> dict:
    """Parameters(name, version, display, definition) of a code in a shipped code system."""
    ctx.guard.require(Interaction.READ, "CodeSystem")
    coding = (
        params["coding"]
        if isinstance(params.get("coding"), dict)
        else {"system": params.get("system"), "code": params.get("code")}
    )
    system, code = coding.get("system"), coding.get("code")
    if not isinstance(system, str) or not isinstance(code, str) or not system or not code:
        raise BadRequest("$lookup needs a system and a code (or a coding)", location="http.code")
    code_system = ctx.services.validator.profiles.terminology.code_systems.get(system)
    if code_system is None:
        raise NotFound(f"CodeSystem {coding['system']} is not known to this server")
    concept = code_system.concepts.get(code)
    if concept is None:
        raise NotFound(f"{coding['code']} is not a code of {coding['system']}")
    parameters = [{"name": "name", "valueString": code_system.raw.get("name", code_system.url)}]
    if code_system.raw.get("version"):
        parameters.append({"name": "version", "valueString": code_system.raw["version"]})
    parameters.append({"name": "display", "valueString": concept.get("display", concept["code"])})
    if concept.get("definition"):
        parameters.append({"name": "designation", "part": [{"name": "value", "valueString": concept["definition"]}]})
    return {"resourceType": "Parameters", "parameter": parameters}
