"""Structure errors from the R4B models, as issues with FHIRPath expressions."""

from __future__ import annotations

from ..fhir.models import structure_errors
from ..fhir.outcomes import Issue

_CODES = {"extra_forbidden": "structure", "missing": "required"}


def expression(resource_type: str, location: tuple) -> str:
    """('name', 0, 'given') -> Patient.name[0].given; pydantic's own markers are dropped."""
    path = resource_type
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier() or part.lstrip("_").isidentifier():
            path += f".{part}"
    return path


def _message(error) -> str:
    if error.kind == "extra_forbidden":
        return "Unknown element"
    if error.kind == "missing":
        return "Missing required element"
    return error.message.removeprefix("Value error, ")


def structure_issues(resource_type: str, resource: dict) -> list[Issue]:
    return [
        Issue(_message(error), _CODES.get(error.kind, "value"), expression=(expression(resource_type, error.location),))
        for error in structure_errors(resource_type, resource)
    ]
