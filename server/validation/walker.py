"""The walk of one resource against element rules (R4 profiling.html, validation.html).

Base mode (the R4 definitions, always): every invariant of every element, data types included, and
ele-1; cardinality, types and required bindings of the base are the models' and bindings.py's job.
Profile mode (a profile the resource claims or the server requires): cardinality (also of slices),
choice types, reference targets, fixed and pattern values, bindings, slicing and the profile's own
invariants; an invariant is evaluated once per element even when several definitions state it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..fhir.outcomes import Issue
from .definitions import Definition, Rule
from .invariants import InvariantError, element_has_content
from .patterns import matches_pattern, value_at
from .terminology import Terminology

R4 = "http://hl7.org/fhir/StructureDefinition/"
_REFERENCE_TYPE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
CODED = ("code", "Coding", "CodeableConcept", "string", "uri")


@dataclass
class Walk:
    resource: dict
    base: dict[str, Definition]  # type -> its R4 definition
    definitions: dict[str, Definition]  # url -> definition
    terminology: Terminology
    target_types: dict[str, str]
    base_bindings: frozenset  # (path, value set) the required-binding check already covers
    issues: list[Issue] = field(default_factory=list)
    done: set = field(default_factory=set)

    # ------------------------------------------------------------------ one element's value

    def node(self, value, rule: Rule, expr: str, type_code: str, profile: bool, owner: Definition) -> None:
        if rule.invariants:
            self._invariants(value, rule, expr, _type_path(value, rule, type_code))
        if profile:
            self._values(value, rule, expr, type_code)
        elif not element_has_content(value) and (expr, "ele-1") not in self.done:
            self.done.add((expr, "ele-1"))
            self.issues.append(
                Issue(
                    "All FHIR elements must have a @value or children", "invariant", expression=(expr,), details="ele-1"
                )
            )
        if not isinstance(value, dict):
            return
        children = rule.children
        if rule.content_reference:
            target = owner.by_path.get(rule.content_reference.lstrip("#").split("#")[-1])
            children = target.children if target else []
        if children:
            self.children(value, children, expr, profile, owner)
        elif not profile:
            self._descend_base(value, rule, expr, type_code)
        for ref in rule.types:
            if ref.code == type_code or len(rule.types) == 1:
                for url in ref.profiles:
                    definition = self.definitions.get(url)
                    if definition is not None and (profile or url.startswith(R4)):
                        self.node(value, definition.root, expr, type_code, profile, definition)

    def _descend_base(self, value: dict, rule: Rule, expr: str, type_code: str) -> None:
        name: str | None = value.get("resourceType") if type_code == "Resource" else type_code
        definition = self.base.get(name) if name is not None else None
        if definition is not None and definition.root is not rule:
            self.node(value, definition.root, expr, type_code, False, definition)

    def _invariants(self, value, rule: Rule, expr: str, type_path: str) -> None:
        for invariant in rule.invariants:
            if (expr, invariant.key) in self.done:
                continue
            self.done.add((expr, invariant.key))
            try:
                holds = invariant.holds(value, self.resource, type_path)
            except InvariantError as error:
                self.issues.append(
                    Issue(
                        f"Constraint {invariant.key} could not be evaluated ({error})",
                        "processing",
                        "warning",
                        (expr,),
                        details=invariant.key,
                    )
                )
                continue
            if not holds:
                self.issues.append(
                    Issue(
                        f"Constraint failed: {invariant.key}: {invariant.human}",
                        "invariant",
                        invariant.severity if invariant.severity in ("error", "information") else "warning",
                        (expr,),
                        details=invariant.key,
                    )
                )

    # ------------------------------------------------------------------ profile checks of a value

    def _values(self, value, rule: Rule, expr: str, type_code: str) -> None:
        if rule.fixed is not None and value != rule.fixed:
            self.issues.append(
                Issue(f"Value must be exactly {_short(rule.fixed)} ({rule.id})", "value", expression=(expr,))
            )
        if rule.pattern is not None and not matches_pattern(rule.pattern, value):
            self.issues.append(
                Issue(f"Value must match the pattern {_short(rule.pattern)} ({rule.id})", "value", expression=(expr,))
            )
        if rule.binding and type_code in CODED:
            self._binding(value, rule, expr)
        if type_code == "Reference" and isinstance(value, dict):
            self._reference_target(value, rule, expr)

    def _binding(self, value, rule: Rule, expr: str) -> None:
        if rule.binding is None:  # the caller checks it
            return
        strength, url = rule.binding
        if strength not in ("required", "extensible"):
            return
        if strength == "required" and (rule.path, url) in self.base_bindings:
            return  # bindings.py reports it already
        value_set = self.terminology.value_set(url)
        if value_set is None or value_set.has_code(value):
            return  # a value set that could not be expanded from the packages is not enforced
        if strength == "required":
            self.issues.append(
                Issue(
                    f"The code is not in the required value set {url} ({rule.id})", "code-invalid", expression=(expr,)
                )
            )
        elif not (isinstance(value, dict) and value.get("text")):
            self.issues.append(
                Issue(
                    f"The code is not in the extensible value set {url} and there is no text ({rule.id})",
                    "code-invalid",
                    "warning",
                    (expr,),
                )
            )

    def _reference_target(self, value: dict, rule: Rule, expr: str) -> None:
        targets = [t for ref in rule.types if ref.code == "Reference" for t in ref.targets]
        reference = value.get("reference")
        if not targets or not isinstance(reference, str) or reference.startswith(("#", "urn:")):
            return
        match = _REFERENCE_TYPE.search(reference)
        allowed = {self.target_types.get(t) or t.rsplit("/", 1)[-1] for t in targets}
        if match and match.group(1) not in allowed and "Resource" not in allowed:
            self.issues.append(
                Issue(
                    f"A reference to {match.group(1)} is not allowed here; expected"
                    f" {' | '.join(sorted(allowed))} ({rule.id})",
                    "structure",
                    expression=(expr,),
                )
            )

    # ------------------------------------------------------------------ children, cardinality, slices

    def children(self, value: dict, children: list[Rule], expr: str, profile: bool, owner: Definition) -> None:
        for child in children:
            keys = child.keys
            items: list[tuple[str, Any, str]] = []
            for key in (k for k in value if k in keys) if child.choice else (child.name,):
                found = value.get(key)
                if found is None:
                    continue
                if isinstance(found, list):
                    items.extend((f"{expr}.{key}[{i}]", item, keys[key]) for i, item in enumerate(found))
                else:
                    items.append((f"{expr}.{key}", found, keys[key]))
            if profile:
                self._cardinality(value, child, items, expr)
            if profile and child.slices:
                self._slices(child, items, f"{expr}.{child.name}", owner)
            for item_expr, item, type_code in items:
                self.node(item, child, item_expr, type_code, profile, owner)

    def _cardinality(self, value: dict, child: Rule, items: list, expr: str) -> None:
        where = f"{expr}.{child.name}"
        if len(items) < child.min:
            self.issues.append(
                Issue(f"{child.id}: at least {child.min} required, found {len(items)}", "required", expression=(where,))
            )
        if child.max is not None and len(items) > child.max:
            self.issues.append(
                Issue(f"{child.id}: at most {child.max} allowed, found {len(items)}", "structure", expression=(where,))
            )
        if child.choice:
            for key in value:
                if key.startswith(child.name) and key[len(child.name) :][:1].isupper() and key not in child.keys:
                    self.issues.append(
                        Issue(
                            f"{child.id}: type {key[len(child.name) :]} is not allowed here; allowed:"
                            f" {', '.join(t.code for t in child.types)}",
                            "structure",
                            expression=(f"{expr}.{key}",),
                        )
                    )

    def _slices(self, child: Rule, items: list, where: str, owner: Definition) -> None:
        counts = {id(s): 0 for s in child.slices}
        for item_expr, item, type_code in items:
            matched = next((s for s in child.slices if self._in_slice(child, s, item, type_code)), None)
            if matched is None:
                if (child.slicing or {}).get("rules") == "closed":
                    self.issues.append(
                        Issue(
                            f"{child.id}: the value matches no slice and the slicing is closed",
                            "structure",
                            expression=(item_expr,),
                        )
                    )
                continue
            counts[id(matched)] += 1
            self.node(item, matched, item_expr, type_code, True, owner)
        for s in child.slices:
            found = counts[id(s)]
            if found < s.min:
                self.issues.append(
                    Issue(
                        f"Slice {s.slice_name!r} of {child.id}: at least {s.min} required, found {found}",
                        "required",
                        expression=(where,),
                    )
                )
            if s.max is not None and found > s.max:
                self.issues.append(
                    Issue(
                        f"Slice {s.slice_name!r} of {child.id}: at most {s.max} allowed, found {found}",
                        "structure",
                        expression=(where,),
                    )
                )

    def _in_slice(self, child: Rule, s: Rule, item, type_code: str) -> bool:
        for discriminator in (child.slicing or {}).get("discriminator", []):
            kind, path = discriminator.get("type"), discriminator.get("path", "$this")
            if kind == "type":
                if type_code not in {t.code for t in s.types}:
                    return False
            elif kind in ("value", "pattern"):
                expected, is_fixed = _slice_value(s, path)
                actual = value_at(item, path)
                if expected is None:
                    value_set = self.terminology.value_set(s.binding[1]) if s.binding else None
                    if path != "$this" or value_set is None or not value_set.has_code(actual):
                        return False
                elif not (actual == expected if is_fixed else matches_pattern(expected, actual)):
                    return False
            elif kind == "exists":
                target = _rule_at(s, path)
                if target is None or (value_at(item, path) is not None) != (target.min > 0):
                    return False
            else:  # profile discriminators need resolving the profile: not supported
                return False
        return True


def _type_path(value, rule: Rule, type_code: str) -> str:
    """What fhirpathpy needs to know a node's type: a data type's name, else the element's path."""
    if type_code == "Resource" and isinstance(value, dict):
        return value.get("resourceType", "Resource")
    if type_code[:1].isupper() and type_code not in ("BackboneElement", "Element"):
        return type_code
    return rule.path


def _rule_at(rule: Rule, path: str) -> Rule | None:
    for name in path.split("."):
        child = next((c for c in rule.children if c.name == name.removesuffix("[x]")), None)
        if child is None:
            return None
        rule = child
    return rule


def _slice_value(s: Rule, path: str) -> tuple[object, bool]:
    """(the value a slice fixes or patterns at path, is it fixed)."""
    rule = s if path == "$this" else _rule_at(s, path)
    if rule is not None and rule.fixed is not None:
        return rule.fixed, True
    if rule is not None and rule.pattern is not None:
        return rule.pattern, False
    if path == "url" and s.types and s.types[0].profiles:  # an extension slice names its profile
        return s.types[0].profiles[0], True
    return None, False


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."
