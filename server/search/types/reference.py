"""Reference search (R4 search.html#reference): the type and id (or absolute URL) a Reference points
at; `:identifier` searches Reference.identifier as token rows under `name:identifier`, and a type
modifier (`subject:Patient`) narrows the target type."""

from __future__ import annotations

from ...fhir.outcomes import BadRequest
from ...fhir.references import parse_reference
from ...storage.index.reference import ReferenceCriterion, ReferenceValue
from ...storage.index.token import TokenCriterion
from .token import token_value, tokens

CRITERION = ReferenceCriterion
MODIFIERS = frozenset({"", "identifier"})  # and the parameter's target types


def targets(value, base_url: str) -> list[tuple[str | None, str]]:
    """(target type, target id) of a Reference; an external absolute URL is kept whole."""
    literal = value.get("reference") if isinstance(value, dict) else value
    if not isinstance(literal, str):
        return []
    reference = parse_reference(literal)
    if reference is None:
        return [(None, literal)] if "://" in literal or literal.startswith("urn:") else []
    if reference.base is None or reference.base.rstrip("/") == base_url:
        return [(reference.resource_type, reference.id)]
    return [(reference.resource_type, literal)]


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    name = param.name
    rows["reference"] += [(name, t, i) for t, i in targets(value, base_url)]
    identifier = value.get("identifier") if isinstance(value, dict) else None
    rows["token"] += [(f"{name}:identifier", s, c) for s, c in tokens(identifier) if c]


def reference_value(text: str, type_modifier: str | None, base_url: str) -> ReferenceValue:
    """`123`, `Patient/123`, or an absolute URL (local when it starts with our base URL)."""
    if "/" not in text:
        return ReferenceValue(type_modifier, text)
    reference = parse_reference(text)
    if reference is None:
        return ReferenceValue(None, text)
    if type_modifier and reference.resource_type != type_modifier:
        raise BadRequest(f"Reference '{text}' does not match the type modifier ':{type_modifier}'")
    if reference.base is not None and reference.base.rstrip("/") != base_url:
        return ReferenceValue(reference.resource_type, text)
    return ReferenceValue(reference.resource_type, reference.id)


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier and modifier not in MODIFIERS and modifier not in param.targets:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on reference parameter '{param.name}'", expression=name)
    if modifier == "identifier":
        return TokenCriterion(f"{param.name}:identifier", tuple(token_value(v) for v in values))
    return ReferenceCriterion(param.name, tuple(reference_value(v, modifier or None, base_url) for v in values))


def matches(criterion: ReferenceCriterion, rows: dict[str, list]) -> bool:
    """storage/index/reference.py's condition, in memory."""
    return any(
        param == criterion.param
        and any(target_id == v.target_id and v.target_type in (None, target_type) for v in criterion.values)
        for param, target_type, target_id in rows.get("reference", ())
    )
