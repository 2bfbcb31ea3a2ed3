"""The one module that imports fhir.resources (R4B models; for our five types R4B is R4)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fhir.resources.R4B import get_fhir_model_class
from datetime import date, time
from decimal import Decimal

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class StructureError:
    location: tuple[str | int, ...]
    message: str
    kind: str


@lru_cache(maxsize=None)
def _model(resource_type: str):
    return get_fhir_model_class(resource_type)


def structure_errors(resource_type: str, resource: dict) -> list[StructureError]:
    """Errors the R4B model finds: unknown elements, types, cardinality, choice types, formats."""
    try:
        instance = _model(resource_type).model_validate(resource)
    except ValidationError as error:
        return [StructureError(tuple(e["loc"]), e["msg"], e["type"]) for e in error.errors()]
    except (ValueError, TypeError) as error:  # fhir.resources raises these for some root-level problems
        return [StructureError((), str(error), "value_error")]
    return list(_json_type_errors(instance, resource, ()))


@lru_cache(maxsize=None)
def _python_names(model_class) -> dict[str, str]:
    return {field.alias or name: name for name, field in model_class.model_fields.items()}


def _json_type_error(parsed, raw, location) -> StructureError | None:
    """R4 json.html: booleans and numbers are JSON booleans and numbers; every other primitive a string.
    The models coerce "true" and "5" silently, so the parsed value's type is compared with the JSON's."""
    if isinstance(parsed, bool):
        expected_ok, expected = isinstance(raw, bool), "a JSON boolean"
    elif isinstance(parsed, (int, Decimal, float)):
        expected_ok, expected = isinstance(raw, (int, float)) and not isinstance(raw, bool), "a JSON number"
    elif isinstance(parsed, (str, date, time)):
        expected_ok, expected = isinstance(raw, str), "a JSON string"
    else:
        return None
    return None if expected_ok else StructureError(location, f"Value must be {expected}", "json_type")


def _json_type_errors(instance, raw: dict, location: tuple):
    names = _python_names(type(instance))
    for key, raw_value in raw.items():
        if key.startswith("_") or key == "resourceType" or key not in names:
            continue
        parsed = getattr(instance, names[key], None)
        pairs = zip(parsed, raw_value) if isinstance(parsed, list) and isinstance(raw_value, list) else [(parsed, raw_value)]
        for index, (parsed_item, raw_item) in enumerate(pairs):
            where = location + (key, index) if isinstance(raw_value, list) else location + (key,)
            if isinstance(parsed_item, BaseModel) and isinstance(raw_item, dict):
                yield from _json_type_errors(parsed_item, raw_item, where)
            elif (error := _json_type_error(parsed_item, raw_item, where)) is not None:
                yield error


def parse_resource(resource_type: str, resource: dict):
    """A model instance, for the rare paths that need one (_elements, _summary)."""
    return _model(resource_type).model_validate(resource)


def _field_extra(field) -> dict:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


@lru_cache(maxsize=None)
def summary_elements(resource_type: str) -> frozenset[str]:
    """Top-level elements marked isSummary in the R4 definition (for _summary=true)."""
    fields = _model(resource_type).model_fields.values()
    return frozenset(f.alias for f in fields if _field_extra(f).get("summary_element_property"))


@lru_cache(maxsize=None)
def mandatory_elements(resource_type: str) -> frozenset[str]:
    """Top-level elements with min cardinality 1 (kept by _summary=text and _elements)."""
    fields = _model(resource_type).model_fields.values()
    return frozenset(f.alias for f in fields if f.is_required() or _field_extra(f).get("element_required")
                     or _field_extra(f).get("one_of_many_required"))
