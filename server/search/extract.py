"""Search values extracted from a resource at write time, as rows for the index tables
(R4 search.html: which element types each search parameter type indexes, and how)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ..fhir.references import parse_reference
from .dates import parse_range
from .fhirpath import CHOICE_TYPES, root_elements
from .normalize import normalize
from .registry import ADDRESS_PARTS, COLUMN_PARAMS, NAME_PARTS, ResourceDefinition

_CONTACT_POINT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
_UNBOUNDED = Decimal("1e30")
_CHOICE_ELEMENT = re.compile(f"^([a-z][A-Za-z0-9]*?)(?:{'|'.join(sorted(CHOICE_TYPES))})$")


def _tokens(value) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a token-typed value."""
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value or "text" in value and "value" not in value:  # CodeableConcept
        return [pair for coding in value.get("coding", []) for pair in _tokens(coding)]
    if "code" in value:  # Coding
        return [(value.get("system"), value["code"])]
    if isinstance(value.get("value"), str):
        if value.get("system") in _CONTACT_POINT_SYSTEMS:  # ContactPoint: matched on its value
            return [(None, value["value"])]
        return [(value.get("system"), value["value"])]  # Identifier
    return []


def _token_texts(value) -> list[str]:
    """What `:text` searches: CodeableConcept.text, Coding.display, Identifier.type.text."""
    if not isinstance(value, dict):
        return []
    texts = [value["text"]] if isinstance(value.get("text"), str) else []
    texts += [c["display"] for c in value.get("coding", []) if isinstance(c, dict) and "display" in c]
    if "display" in value and "code" in value:
        texts.append(value["display"])
    if isinstance(value.get("type"), dict):
        texts += _token_texts(value["type"])
    return texts


def _of_type(value) -> list[str]:
    """Identifier `:of-type` values: type-system|type-code|value."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), dict) or "value" not in value:
        return []
    return [f"{c.get('system', '')}|{c['code']}|{value['value']}" for c in value["type"].get("coding", []) if "code" in c]


def _strings(value) -> list[tuple[str, str | None]]:
    """(text, part): a HumanName's or an Address's texts with the element each comes from."""
    if isinstance(value, str):
        return [(value, None)]
    if not isinstance(value, dict):
        return []
    parts = NAME_PARTS if "family" in value or "given" in value else ADDRESS_PARTS
    found = []
    for part in parts:
        item = value.get(part)
        texts = item if isinstance(item, list) else [item] if isinstance(item, str) else []
        found += [(text, part) for text in texts]
    return found


def _dates(value) -> list[tuple[datetime, datetime]]:
    try:
        if isinstance(value, str):
            return [parse_range(value)]
        if isinstance(value, dict) and ("start" in value or "end" in value):  # Period: open ends are unbounded
            low = parse_range(value["start"])[0] if "start" in value else EARLIEST
            high = parse_range(value["end"])[1] if "end" in value else LATEST
            return [(low, high)]
    except ValueError:
        return []
    return []


def precision_range(number: Decimal) -> tuple[Decimal, Decimal]:
    """R4 search.html#number: 100 means [99.5, 100.5); the precision is that of the value as written."""
    half = Decimal(1).scaleb(number.as_tuple().exponent) / 2
    return number - half, number + half


def _quantities(value) -> list[tuple[Decimal, Decimal, str | None, str | None]]:
    if not isinstance(value, dict):
        return []
    try:
        if "value" in value:
            low, high = precision_range(Decimal(str(value["value"])))
            return [(low, high, value.get("system"), value.get("code") or value.get("unit"))]
        if "low" in value or "high" in value:  # Range
            bound = value.get("low") or value.get("high")
            low = Decimal(str(value["low"]["value"])) if "value" in value.get("low", {}) else -_UNBOUNDED
            high = Decimal(str(value["high"]["value"])) if "value" in value.get("high", {}) else _UNBOUNDED
            return [(low, high, bound.get("system"), bound.get("code") or bound.get("unit"))]
    except (InvalidOperation, TypeError, AttributeError):
        return []
    return []


def _references(value, base_url: str) -> list[tuple[str | None, str]]:
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


def _rows_for(param, value, base_url: str, rows: dict[str, list]) -> None:
    name = param.name
    if param.type == "token":
        rows["token"] += [(name, system, code) for system, code in _tokens(value) if code]
        rows["token"] += [(f"{name}:of-type", None, text) for text in _of_type(value)]
        rows["string"] += [(f"{name}:text", normalize(text), text, None) for text in _token_texts(value)]
    elif param.type == "reference":
        rows["reference"] += [(name, t, i) for t, i in _references(value, base_url)]
        identifier = value.get("identifier") if isinstance(value, dict) else None
        rows["token"] += [(f"{name}:identifier", s, c) for s, c in _tokens(identifier) if c]
    elif param.type == "string":
        rows["string"] += [(name, normalize(text), text, part) for text, part in _strings(value)]
    elif param.type == "date":
        rows["date"] += [(name, low, high) for low, high in _dates(value)]
    elif param.type == "quantity":
        rows["quantity"] += [(name, *quantity) for quantity in _quantities(value)]
    elif param.type == "uri" and isinstance(value, str):
        rows["uri"].append((name, value))


def _present_elements(resource: dict) -> set[str]:
    """The resource's top-level elements, choice elements also under their stem (valueQuantity: value)."""
    present = set(resource)
    present.update(match.group(1) for match in map(_CHOICE_ELEMENT.match, resource) if match)
    return present


def index_rows(definition: ResourceDefinition, resource: dict, base_url: str) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {kind: [] for kind in ("token", "reference", "string", "date", "quantity", "uri")}
    present = _present_elements(resource)
    for param in definition.params.values():
        if param.name in COLUMN_PARAMS or not param.writes_rows:
            continue
        roots = root_elements(param.expression, definition.type)
        if roots is not None and roots.isdisjoint(present):
            continue  # most parameters of a type are absent from any one resource
        for value in param.extractor()(resource):
            _rows_for(param, value, base_url, rows)
    return {kind: list(dict.fromkeys(values)) for kind, values in rows.items()}


def patient_compartment(definition: ResourceDefinition, resource: dict, base_url: str) -> str | None:
    """The patient whose compartment holds the resource: a Patient's own id, else the first patient
    referenced through the compartment's parameters (R4 compartmentdefinition-patient.html)."""
    if definition.type == "Patient":
        return resource.get("id")
    for name in definition.patient_compartment_params():
        param = definition.params.get(name)
        if param is None:
            continue
        for value in param.extractor()(resource):
            for target_type, target_id in _references(value, base_url):
                if target_type == "Patient" and "/" not in target_id:
                    return target_id
    return None
