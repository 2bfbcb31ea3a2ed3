"""The one module that imports fhir.resources (R4B models; for our five types R4B is R4)."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from functools import cache

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import FhirBase
from pydantic import ValidationError


@dataclass(frozen=True)
class StructureError:
    location: tuple[str | int, ...]
    message: str
    kind: str


@cache
def _model(resource_type: str):
    return get_fhir_model_class(resource_type)


def structure_errors(resource_type: str, resource: dict) -> list[StructureError]:
    """Errors the R4B model finds: unknown elements, types, cardinality, choice types, formats."""
    model_class = _model(resource_type)
    try:
        model_class.model_validate(resource)
    except ValidationError as error:
        return [StructureError(tuple(e["loc"]), e["msg"], e["type"]) for e in error.errors()]
    except (ValueError, TypeError) as error:  # fhir.resources raises these for some root-level problems
        return [StructureError((), str(error), "value_error")]
    return list(_json_type_errors(model_class, resource, ()))


def _base_type(annotation):
    """Optional[List[Annotated[date, Date()]]] -> date; None when it is a union of several types."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is not None:  # Optional, Union, List
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return None
            annotation = args[0]
        else:
            return annotation


@cache
def _json_kinds(model_class) -> dict[str, tuple[str, type[FhirBase] | None]]:
    """JSON property -> the JSON type its values must have (R4 json.html: booleans and numbers are
    JSON booleans and numbers, every other primitive a string; complex types objects), with the
    marker type of the model an object's children are checked against."""
    kinds: dict[str, tuple[str, type[FhirBase] | None]] = {}
    for name, field in model_class.model_fields.items():
        base = _base_type(field.annotation)
        if not isinstance(base, type):
            continue
        if issubclass(base, bool):
            kinds[field.alias or name] = ("boolean", None)
        elif issubclass(base, (int, float, Decimal)):
            kinds[field.alias or name] = ("number", None)
        elif issubclass(base, (str, bytes, date, time)):
            kinds[field.alias or name] = ("string", None)
        elif issubclass(base, FhirBase):
            kinds[field.alias or name] = ("object", base)
    return kinds


_JSON_TYPE_OK = {
    "boolean": lambda value: isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "string": lambda value: isinstance(value, str),
}


def _child_model(marker: type[FhirBase], value: dict):
    if "resourceType" in value:  # a contained resource: its own type's model
        try:
            return _model(value["resourceType"])
        except (KeyError, ValueError, TypeError):
            return None
    return marker.get_model_klass()


def _json_type_errors(model_class, raw: dict, location: tuple):
    """The models coerce "true" and "5" silently, so the JSON's own types are checked against the
    model's field types (after the model accepted the resource, so the shape is right)."""
    kinds = _json_kinds(model_class)
    for key, value in raw.items():
        spec = kinds.get(key)
        if spec is None:
            continue
        kind, marker = spec
        many = isinstance(value, list)
        for index, item in enumerate(value) if many else ((None, value),):
            if kind == "object":
                # object kinds always carry their marker model (_json_kinds)
                child = _child_model(marker, item) if isinstance(item, dict) and marker is not None else None
                if child is not None:
                    yield from _json_type_errors(child, item, location + ((key, index) if many else (key,)))
            elif item is not None and not _JSON_TYPE_OK[kind](item):
                yield StructureError(
                    location + ((key, index) if many else (key,)), f"Value must be a JSON {kind}", "json_type"
                )


def parse_resource(resource_type: str, resource: dict):
    """A model instance, for the rare paths that need one (_elements, _summary)."""
    return _model(resource_type).model_validate(resource)


def _field_extra(field) -> dict:
    return field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """Top-level elements marked isSummary in the R4 definition (for _summary=true)."""
    fields = _model(resource_type).model_fields.values()
    return frozenset(f.alias for f in fields if _field_extra(f).get("summary_element_property"))


@cache
def mandatory_elements(resource_type: str) -> frozenset[str]:
    """Top-level elements with min cardinality 1 (kept by _summary=text and _elements)."""
    fields = _model(resource_type).model_fields.values()
    return frozenset(
        f.alias
        for f in fields
        if f.is_required() or _field_extra(f).get("element_required") or _field_extra(f).get("one_of_many_required")
    )
