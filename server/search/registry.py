"""The registry of resource types and search parameters, read from resources/*.json (FHIR knowledge
is data). The CapabilityStatement and the indexer both read it, so they cannot drift."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

from .fhirpath import compile_expression

# Search types with an index behind them; a parameter of another type is not offered.
INDEXED_SEARCH_TYPES = frozenset({"token", "reference", "string", "date", "quantity", "uri"})
# The elements of a HumanName and an Address that string searches match (R4 search.html#string).
NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")
STRING_PARTS = frozenset(NAME_PARTS + ADDRESS_PARTS)
# Parameters answered from columns of the resources table rather than an index table.
COLUMN_PARAMS = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str
    expression: str
    definition: str
    documentation: str
    targets: tuple[str, ...] = ()
    # Where its index rows live: a string parameter whose values are an element of another's
    # (Patient family: name.family) or the same values (phonetic: name) is searched in that
    # parameter's rows, restricted to the rows of that element (part); it writes no rows of its own.
    stored_as: str = ""
    part: str | None = None

    @property
    def index_param(self) -> str:
        return self.stored_as or self.name

    @property
    def writes_rows(self) -> bool:
        return not self.stored_as

    def extractor(self):
        return compile_expression(self.expression)


@dataclass(frozen=True)
class ResourceDefinition:
    type: str
    interactions: tuple[str, ...]
    params: dict[str, SearchParam]  # only the indexed ones
    compartments: dict[str, tuple[str, ...]]
    raw: dict  # the file, for the CapabilityStatement
    # The registry holding this definition: a chain or _has names other types, wherever criteria are
    # parsed (a search, If-None-Exist, a conditional reference, a granular scope).
    registry: Registry | None = field(default=None, compare=False, repr=False)

    def patient_compartment_params(self) -> tuple[str, ...]:
        return self.compartments.get("Patient", ())

    def supports(self, interaction: str) -> bool:
        return interaction in self.interactions


def _is_indexed(param: dict) -> bool:
    return param["name"] in COLUMN_PARAMS or param["type"] in INDEXED_SEARCH_TYPES


def _string_parts(params: dict[str, SearchParam]) -> dict[str, SearchParam]:
    """Each string parameter whose expression is another's, or another's plus one element, stored
    as that one (see SearchParam.stored_as); the first by name of equal ones keeps its rows."""
    strings: dict[str, str] = {}
    for param in sorted(params.values(), key=lambda p: p.name):
        if param.type == "string":
            strings.setdefault(param.expression, param.name)
    linked = {}
    for param in params.values():
        if param.type != "string":
            continue
        base, _, element = param.expression.rpartition(".")
        if strings.get(param.expression, param.name) != param.name:
            linked[param.name] = replace(param, stored_as=strings[param.expression])
        elif element in STRING_PARTS and base in strings:
            linked[param.name] = replace(param, stored_as=strings[base], part=element)
    return {**params, **linked}


def _definition(raw: dict, implemented: frozenset[str]) -> ResourceDefinition:
    params = _string_parts(
        {
            p["name"]: SearchParam(
                p["name"],
                p["type"],
                p.get("expression", ""),
                p.get("definition", ""),
                p.get("documentation", ""),
                tuple(p.get("target", ())),
            )
            for p in raw.get("searchParam", [])
            if _is_indexed(p)
        }
    )
    return ResourceDefinition(
        type=raw["type"],
        interactions=tuple(i["code"] for i in raw.get("interaction", []) if i["code"] in implemented),
        params=params,
        compartments={k: tuple(v) for k, v in raw.get("compartment", {}).items()},
        raw=raw,
    )


class Registry:
    def __init__(self, definitions: dict[str, ResourceDefinition]):
        self.definitions = {name: replace(definition, registry=self) for name, definition in definitions.items()}

    @classmethod
    def load(cls, directory: Path, implemented: frozenset[str]) -> Registry:
        definitions = {}
        for path in sorted(directory.glob("*.json")):
            definition = _definition(orjson.loads(path.read_bytes()), implemented)
            definitions[definition.type] = definition
        return cls(definitions)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.definitions)

    def get(self, resource_type: str) -> ResourceDefinition | None:
        return self.definitions.get(resource_type)
