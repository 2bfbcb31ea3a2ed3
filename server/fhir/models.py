"""The one module that imports fhir.resources (R4B models; for our five types R4B is R4)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


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
        _model(resource_type).model_validate(resource)
    except ValidationError as error:
        return [StructureError(tuple(e["loc"]), e["msg"], e["type"]) for e in error.errors()]
    except (ValueError, TypeError) as error:  # fhir.resources raises these for some root-level problems
        return [StructureError((), str(error), "value_error")]
    return []


def parse_resource(resource_type: str, resource: dict):
    """A model instance, for the rare paths that need one (_elements, _summary)."""
    return _model(resource_type).model_validate(resource)
