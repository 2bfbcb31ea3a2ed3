"""StructureDefinitions from profiles/StructureDefinition/, compiled once into element rules: the
snapshot's machine parts (R4 elementdefinition.html) arranged as a tree of children and slices."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .invariants import Invariant, invariant


@dataclass(frozen=True)
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


@dataclass(eq=False)
class Rule:
    """One element definition of a snapshot, with its children and slices."""

    id: str
    path: str
    name: str  # the JSON name, without [x]
    min: int
    max: int | None  # None: unbounded
    choice: bool
    types: tuple[TypeRef, ...]
    fixed: object = None
    pattern: object = None
    binding: tuple[str, str] | None = None  # (strength, value set url without version)
    invariants: tuple[Invariant, ...] = ()
    slice_name: str | None = None
    slicing: dict | None = None
    content_reference: str | None = None
    children: list[Rule] = field(default_factory=list)
    slices: list[Rule] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # json_keys(), computed once

    def __post_init__(self):
        self.keys = self.json_keys()

    def json_keys(self) -> dict[str, str]:
        """JSON property -> type code: `valueQuantity` -> Quantity for a choice, else name -> its type."""
        if not self.choice:
            return {self.name: self.types[0].code if self.types else ""}
        return {self.name + t.code[0].upper() + t.code[1:]: t.code for t in self.types}


@dataclass(eq=False)
class Definition:
    url: str
    id: str
    type: str
    kind: str
    derivation: str
    base: str | None
    root: Rule
    raw: dict
    by_path: dict[str, Rule]


def _max(value: str | None) -> int | None:
    return None if value in (None, "*") else int(value)


def _fixed_and_pattern(element: dict) -> tuple[object, object]:
    fixed = pattern = None
    for key, value in element.items():
        if key.startswith("fixed"):
            fixed = value
        elif key.startswith("pattern"):
            pattern = value
    return fixed, pattern


def _rule(element: dict, source: str) -> Rule:
    name = element["path"].rsplit(".", 1)[-1]
    types = tuple(
        TypeRef(
            t["code"],
            tuple(p.split("|")[0] for p in t.get("profile", [])),
            tuple(p.split("|")[0] for p in t.get("targetProfile", [])),
        )
        for t in element.get("type", [])
    )
    binding = element.get("binding")
    fixed, pattern = _fixed_and_pattern(element)
    invariants = tuple(filter(None, (invariant(c, source) for c in element.get("constraint", []))))
    return Rule(
        id=element["id"],
        path=element["path"],
        name=name.removesuffix("[x]"),
        min=element.get("min", 0),
        max=_max(element.get("max")),
        choice=name.endswith("[x]"),
        types=types,
        fixed=fixed,
        pattern=pattern,
        binding=(binding["strength"], binding["valueSet"].split("|")[0]) if binding else None,
        invariants=invariants,
        slice_name=element.get("sliceName"),
        slicing=element.get("slicing"),
        content_reference=element.get("contentReference"),
    )


def compile_definition(sd: dict) -> Definition:
    rules: dict[str, Rule] = {}
    root: Rule | None = None
    for element in sd["snapshot"]["element"]:
        rule = _rule(element, sd["url"])
        rules[rule.id] = rule
        if "." not in rule.id:
            root = rule
            continue
        parent_id, last = rule.id.rsplit(".", 1)
        if ":" in last:  # a slice, `Patient.extension:race`, or a type slice `value[x]:valueQuantity`
            owner = rules.get(f"{parent_id}.{last.split(':', 1)[0]}")
            if owner is not None:
                owner.slices.append(rule)
            continue
        parent = rules.get(parent_id)
        if parent is not None:
            parent.children.append(rule)
    by_path = {rule.path: rule for rule in rules.values() if rule.slice_name is None and ":" not in rule.id}
    assert root is not None, sd["url"]  # a snapshot's first element is the root (R4 sdf-8)
    return Definition(
        url=sd["url"],
        id=sd["id"],
        type=sd["type"],
        kind=sd.get("kind", ""),
        derivation=sd.get("derivation", ""),
        base=sd.get("baseDefinition"),
        root=root,
        raw=sd,
        by_path=by_path,
    )


def load_definitions(directory: Path) -> dict[str, Definition]:
    """url -> Definition for every StructureDefinition shipped."""
    definitions = {}
    for path in sorted(directory.glob("*.json")):
        definition = compile_definition(orjson.loads(path.read_bytes()))
        definitions[definition.url] = definition
    return definitions
