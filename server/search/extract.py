"""Search values extracted from a resource at write time, as rows for the index tables
(R4 search.html: which element types each search parameter type indexes, and how). What each
type's rows are is its module's business (search/types/)."""

from __future__ import annotations

import re

from .fhirpath import CHOICE_TYPES, root_elements
from .registry import COLUMN_PARAMS, ResourceDefinition
from .types import SEARCH_TYPES
from .types.reference import targets

_CHOICE_ELEMENT = re.compile(f"^([a-z][A-Za-z0-9]*?)(?:{'|'.join(sorted(CHOICE_TYPES))})$")
_EXTRACTORS = {name: module.extract for name, module in SEARCH_TYPES.items()}


def _present_elements(resource: dict) -> set[str]:
    """The resource's top-level elements, choice elements also under their stem (valueQuantity: value)."""
    present = set(resource)
    present.update(match.group(1) for match in map(_CHOICE_ELEMENT.match, resource) if match)
    return present


def index_rows(definition: ResourceDefinition, resource: dict, base_url: str) -> dict[str, list[tuple]]:
    """The index rows of a resource by search type: {"token": [(param, system, code), ...], ...}."""
    rows: dict[str, list[tuple]] = {kind: [] for kind in SEARCH_TYPES}
    present = _present_elements(resource)
    for param in definition.params.values():
        if param.name in COLUMN_PARAMS or not param.writes_rows:
            continue
        roots = root_elements(param.expression, definition.type)
        if roots is not None and roots.isdisjoint(present):
            continue  # most parameters of a type are absent from any one resource
        extract = _EXTRACTORS[param.type]
        for value in param.extractor()(resource):
            extract(param, value, base_url, rows)
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
            for target_type, target_id in targets(value, base_url):
                if target_type == "Patient" and "/" not in target_id:
                    return target_id
    return None
