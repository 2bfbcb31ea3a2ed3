"""Search values extracted from a resource at write time, as rows for the index tables."""
from __future__ import annotations

from ..fhir.references import parse_reference
from .registry import COLUMN_PARAMS, ResourceDefinition

_CONTACT_POINT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})


def _tokens(value) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a token-typed value (R4 search.html#token, the table of types)."""
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value:  # CodeableConcept
        return [pair for coding in value["coding"] for pair in _tokens(coding)]
    if "code" in value:  # Coding
        return [(value.get("system"), value["code"])]
    if "value" in value and isinstance(value["value"], str):
        if value.get("system") in _CONTACT_POINT_SYSTEMS:  # ContactPoint: matched on its value
            return [(None, value["value"])]
        return [(value.get("system"), value["value"])]  # Identifier
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


def index_rows(definition: ResourceDefinition, resource: dict, base_url: str) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {"token": [], "reference": []}
    for param in definition.params.values():
        if param.name in COLUMN_PARAMS:
            continue
        for value in param.extractor()(resource):
            if param.type == "token":
                rows["token"] += [(param.name, system, code) for system, code in _tokens(value) if code]
            elif param.type == "reference":
                rows["reference"] += [(param.name, t, i) for t, i in _references(value, base_url)]
    return {kind: sorted(set(values), key=repr) for kind, values in rows.items()}


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
