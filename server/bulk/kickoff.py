"""Kick-off request parameters (export.html#query-parameters), from a GET query or a POSTed
Parameters resource, into an ExportRequest. Unsupported parameters or values are 400s, or ignored
under `Prefer: handling=lenient` (export.html#bulk-data-kick-off-request)."""

from __future__ import annotations

import re

from ..fhir.outcomes import BadRequest
from ..interactions.export import ExportRequest
from ..search.query import parse_since

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
# A _typeFilter value holds several queries separated by commas; a comma inside a query's values
# does not start a new one, so split only before "Type?".
_QUERY_START = re.compile(r",(?=[A-Z][A-Za-z]*\?)")
_TYPE = re.compile(r"^[A-Z][A-Za-z]*$")
_IGNORED_FORMAT_PARAMS = ("_format", "_pretty")


class _Collector:
    def __init__(self, level: str, lenient: bool):
        self.level, self.lenient = level, lenient
        self.types: list[str] | None = None
        self.since: str | None = None
        self.filters: list[tuple[str, str]] = []
        self.patients: list[str] | None = None

    def refuse(self, message: str, name: str) -> None:
        if not self.lenient:
            raise BadRequest(message, location=f"http.{name}")

    def add(self, name: str, value, via_post: bool) -> None:
        if name == "_outputFormat":
            if value not in OUTPUT_FORMATS:
                raise BadRequest(
                    f"_outputFormat '{value}' is not supported; use application/fhir+ndjson",
                    location="http._outputFormat",
                )
        elif name == "_since":
            if self.since is not None:
                raise BadRequest("_since may be given once", location="http._since")
            parse_since(value)
            if "T" not in value:
                raise BadRequest(f"Invalid _since '{value}': expected an instant", location="http._since")
            self.since = value
        elif name == "_type":
            types = [t.strip() for t in value.split(",") if t.strip()]
            for resource_type in types:
                if not _TYPE.match(resource_type):
                    raise BadRequest(f"Invalid _type '{resource_type}'", location="http._type")
            self.types = (self.types or []) + types
        elif name == "_typeFilter":
            for query in _QUERY_START.split(value):
                resource_type, mark, criteria = query.partition("?")
                if not mark or not _TYPE.match(resource_type):
                    raise BadRequest(
                        f"Invalid _typeFilter '{query}': expected Type?criteria", location="http._typeFilter"
                    )
                self.filters.append((resource_type, criteria))
        elif name == "patient":
            if not via_post:
                raise BadRequest("patient is a POST (Parameters) parameter", location="http.patient")
            if self.level == "system":
                raise BadRequest("patient applies to Patient- and Group-level exports", location="http.patient")
            self.patients = (self.patients or []) + [_patient_id(value)]
        elif name in ("includeAssociatedData", "_elements", "organizeOutputBy", "allowPartialManifests", "_until"):
            self.refuse(f"{name} is not supported by this server", name)
        elif name not in _IGNORED_FORMAT_PARAMS:
            self.refuse(f"Unknown $export parameter '{name}'", name)

    def request(self, group_id: str | None) -> ExportRequest:
        return ExportRequest(
            self.level,
            group_id,
            tuple(self.types) if self.types is not None else None,
            self.since,
            tuple(self.filters),
            tuple(dict.fromkeys(self.patients)) if self.patients is not None else None,
            self.lenient,
        )


def _patient_id(value) -> str:
    reference = value.get("reference", "") if isinstance(value, dict) else ""
    resource_type, _, id = reference.rstrip("/").rpartition("/")
    if resource_type.rpartition("/")[2] != "Patient" or not id:
        raise BadRequest("patient must be a Reference to a Patient (valueReference)", location="http.patient")
    return id


def from_query(level: str, group_id: str | None, pairs: list[tuple[str, str]], lenient: bool) -> ExportRequest:
    collector = _Collector(level, lenient)
    for name, value in pairs:
        collector.add(name, value, via_post=False)
    return collector.request(group_id)


_VALUE_KEYS = {
    "_outputFormat": "valueString",
    "_since": "valueInstant",
    "_type": "valueString",
    "_typeFilter": "valueString",
    "patient": "valueReference",
}


def from_parameters(level: str, group_id: str | None, body, lenient: bool) -> ExportRequest:
    """A POST kick-off's Parameters resource (export.html#post-body)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise BadRequest("A POST kick-off needs a Parameters resource as its body")
    parameters = body.get("parameter", [])
    if not isinstance(parameters, list):
        raise BadRequest("Parameters.parameter must be an array", expression="Parameters.parameter")
    collector = _Collector(level, lenient)
    for index, parameter in enumerate(parameters):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str):
            raise BadRequest("Every parameter needs a name", expression=f"Parameters.parameter[{index}].name")
        values = [v for k, v in parameter.items() if k.startswith("value")]
        expected = _VALUE_KEYS.get(name)
        if (
            expected
            and expected not in parameter
            and not (name == "_since" and "valueDateTime" in parameter)
            and not (name != "patient" and "valueCode" in parameter)
        ):
            raise BadRequest(f"Parameter {name} needs {expected}", expression=f"Parameters.parameter[{index}]")
        collector.add(name, values[0] if values else None, via_post=True)
    return collector.request(group_id)
