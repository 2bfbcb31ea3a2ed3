"""The shipped value sets (expanded at build time by scripts/build_profiles.py) and code systems:
membership for bindings, and the data of $expand, $validate-code and $lookup (R4 terminology-service.html)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True)
class ValueSet:
    url: str
    raw: dict
    contains: tuple[dict, ...]
    codes: frozenset[tuple[str, str]]
    plain_codes: frozenset[str]

    def has_code(self, value) -> bool:
        """A code (string), Coding or CodeableConcept: is it (one of its codings) in the expansion?"""
        if isinstance(value, str):
            return value in self.plain_codes
        if isinstance(value, dict) and isinstance(value.get("coding"), list):
            return any(self.has_code(coding) for coding in value["coding"] if isinstance(coding, dict))
        if isinstance(value, dict):
            if value.get("system") is None:
                return False
            return (value.get("system"), value.get("code")) in self.codes
        return False


def _concepts(concepts: list[dict]):
    for concept in concepts:
        yield concept
        yield from _concepts(concept.get("concept", []))


@dataclass(frozen=True)
class CodeSystem:
    url: str
    raw: dict
    concepts: dict[str, dict]


class Terminology:
    def __init__(self, profiles_dir: Path):
        self.value_sets: dict[str, ValueSet] = {}
        self.code_systems: dict[str, CodeSystem] = {}
        for path in sorted((profiles_dir / "ValueSet").glob("*.json")):
            raw = orjson.loads(path.read_bytes())
            contains = tuple(raw.get("expansion", {}).get("contains", []))
            self.value_sets[raw["url"]] = ValueSet(
                raw["url"],
                raw,
                contains,
                frozenset((c["system"], c["code"]) for c in contains),
                frozenset(c["code"] for c in contains),
            )
        for path in sorted((profiles_dir / "CodeSystem").glob("*.json")):
            raw = orjson.loads(path.read_bytes())
            self.code_systems[raw["url"]] = CodeSystem(
                raw["url"], raw, {c["code"]: c for c in _concepts(raw.get("concept", []))}
            )

    def value_set(self, url: str) -> ValueSet | None:
        return self.value_sets.get(url.split("|")[0])
