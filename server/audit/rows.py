"""The index rows of an AuditEvent this server shaped itself (events.py), read straight from its known
elements: the generic extraction (search/extract.index_rows) walks every parameter's FHIRPath and
costs more than the read being audited. tests/audit/test_audit_rows.py keeps the two equal; an
event with a shape this does not know (an absolute reference) gets the generic extraction."""

from __future__ import annotations

from typing import Literal

from ..fhir.references import is_valid_id, parse_reference
from ..search.dates import parse_range
from ..search.normalize import normalize
from ..search.registry import INDEXED_SEARCH_TYPES


def _coding_rows(name: str, coding: dict, rows: dict) -> None:
    rows["token"].append((name, coding.get("system"), coding["code"]))
    if "display" in coding:
        rows["string"].append((f"{name}:text", normalize(coding["display"]), coding["display"], None))


def _reference(reference: dict) -> tuple[str, str] | None | Literal[False]:
    """(type, id) of a relative literal reference; None without one; False when it is another shape."""
    literal = reference.get("reference")
    if literal is None:
        return None
    resource_type, slash, id = literal.partition("/")
    if slash and resource_type[:1].isupper() and resource_type.isalpha() and is_valid_id(id):
        return resource_type, id  # the shape events.py writes: Type/id
    parsed = parse_reference(literal)
    if parsed is None or parsed.base is not None:
        return False
    return parsed.resource_type, parsed.id


def audit_event_rows(event: dict) -> dict[str, list[tuple]] | None:
    """Rows by search type for the parameters of resources/AuditEvent.json, or None when the event
    needs the generic extraction: those of its shape (shape_rows, whose keys the trail computes once for
    many events) with those of its own recorded and entity elements."""
    shape, own = shape_rows(event), own_rows(event.get("entity", []))
    if shape is None or own is None:
        return None
    low, high = parse_range(event["recorded"])
    own["date"] = [("date", low, high)]
    return {kind: list(dict.fromkeys(shape[kind] + own.get(kind, []))) for kind in INDEXED_SEARCH_TYPES}


def own_rows(entities: list[dict]) -> dict[str, list[tuple]] | None:
    """The rows of an event's entity elements (references and identifiers, its recorded instant aside), or None when
    it needs the generic extraction."""
    return _rows_of_holders("entity", [e["what"] for e in entities if "what" in e], ("reference", "token"))


def shape_rows(fields: dict) -> dict[str, list[tuple]] | None:
    """The rows of an event's elements but recorded and entity (events.EventShape)."""
    rows = _rows_of_holders("agent", [a["who"] for a in fields["agent"]])
    if rows is None:
        return None
    rows["token"].append(("outcome", None, fields["outcome"]))
    _coding_rows("type", fields["type"], rows)
    for subtype in fields.get("subtype", []):
        _coding_rows("subtype", subtype, rows)
    for profile in fields.get("meta", {}).get("profile", []):
        rows["uri"].append(("_profile", profile))
    return {kind: list(dict.fromkeys(values)) for kind, values in rows.items()}


def _rows_of_holders(
    name: str, holders: list[dict], kinds: frozenset[str] | tuple[str, ...] = INDEXED_SEARCH_TYPES
) -> dict[str, list[tuple]] | None:
    rows: dict[str, list[tuple]] = {kind: [] for kind in kinds}
    for holder in holders:
        target = _reference(holder)
        if target is False:
            return None
        if target is not None:
            rows["reference"].append((name, *target))
            if target[0] == "Patient":
                rows["reference"].append(("patient", *target))
        identifier = holder.get("identifier")
        if identifier is not None and identifier.get("value"):
            rows["token"].append((f"{name}:identifier", identifier.get("system"), identifier["value"]))
    return rows
