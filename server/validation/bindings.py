"""Required value-set bindings (R4 terminologies.html#required), read from profiles/required-bindings.json,
derived from the official R4 definitions by scripts/derive_definitions.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from ..fhir.outcomes import Issue


@dataclass(frozen=True)
class Binding:
    path: tuple[str, ...]  # JSON property names below the resource root
    value_set: str
    codes: frozenset[tuple[str | None, str]]
    plain_codes: frozenset[str]


def load_bindings(path: Path) -> dict[str, list[Binding]]:
    data = orjson.loads(path.read_bytes())
    bindings: dict[str, list[Binding]] = {}
    for resource_type, entries in data.items():
        if resource_type.startswith("_"):
            continue
        bindings[resource_type] = [
            Binding(
                tuple(entry["path"].split(".")[1:]),
                entry["valueSet"],
                frozenset((c.get("system"), c["code"]) for c in entry["codes"]),
                frozenset(c["code"] for c in entry["codes"]),
            )
            for entry in entries
        ]
    return bindings


def _values_at(node, path: tuple[str, ...], expression: str):
    """(expression, value) for every value found along path, arrays flattened with their index."""
    if not path:
        yield expression, node
        return
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _values_at(item, path, f"{expression}[{index}]")
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:], f"{expression}.{path[0]}")


def _coding_ok(binding: Binding, coding: dict) -> bool:
    return (coding.get("system"), coding.get("code")) in binding.codes


def _value_issue(binding: Binding, expression: str, value) -> Issue | None:
    if isinstance(value, list):
        return None  # handled item by item by _values_at
    if isinstance(value, str):
        ok = value in binding.plain_codes
    elif isinstance(value, dict) and "coding" in value:  # CodeableConcept: one coding must be in the value set
        ok = any(_coding_ok(binding, coding) for coding in value["coding"] if isinstance(coding, dict))
    elif isinstance(value, dict) and ("code" in value or "system" in value):  # Coding
        ok = _coding_ok(binding, value)
    else:
        ok = not isinstance(value, dict) or "text" not in value
    if ok:
        return None
    return Issue(
        f"Value is not in the required value set {binding.value_set}", "code-invalid", expression=(expression,)
    )


def binding_issues(bindings: list[Binding], resource_type: str, resource: dict) -> list[Issue]:
    issues = []
    for binding in bindings:
        for expression, value in _values_at(resource, binding.path, resource_type):
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                where = f"{expression}[{index}]" if isinstance(value, list) else expression
                issue = _value_issue(binding, where, item)
                if issue:
                    issues.append(issue)
    return issues
