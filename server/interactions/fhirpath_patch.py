"""FHIRPath Patch (R4 fhirpatch.html): a Parameters resource of `operation`s, each with a type
(add, insert, delete, replace, move) and a path. Paths are the simple subset: `Type.a.b`, `a[2]`,
`first()`, `last()` and `where(name='value')`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from ..fhir.outcomes import BadRequest, Unprocessable

_NAME_INDEX = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)(?:\[(?P<index>\d+)\])?$")
_WHERE = re.compile(r"^where\((?P<name>[A-Za-z][A-Za-z0-9_]*)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)'\)$")


@dataclass
class Slot:
    """Where one element lives: container[key] (container a dict or a list), and the slot holding it."""

    container: dict | list | None
    key: str | int | None
    value: object
    parent: Slot | None = None


@dataclass(frozen=True)
class Operation:
    type: str
    path: str
    name: str | None = None
    value: object = None
    index: int | None = None
    source: int | None = None
    destination: int | None = None


def _segments(path: str) -> list[str]:
    """Split on dots outside parentheses and quotes."""
    parts, current, depth, quoted = [], "", 0, False
    for char in path:
        if char == "'" and not current.endswith("\\"):
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        if char == "." and depth == 0 and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _step(slots: list[Slot], segment: str, path: str) -> list[Slot]:
    if segment == "first()":
        return slots[:1]
    if segment == "last()":
        return slots[-1:]
    if where := _WHERE.match(segment):
        wanted = where["value"].replace("\\'", "'")
        return [s for s in slots if isinstance(s.value, dict) and s.value.get(where["name"]) == wanted]
    match = _NAME_INDEX.match(segment)
    if not match:
        raise BadRequest(f"FHIRPath Patch path '{path}': '{segment}' is not supported (simple paths only)")
    found = []
    for slot in slots:
        node = slot.value
        if not isinstance(node, dict) or match["name"] not in node:
            continue
        child = node[match["name"]]
        if isinstance(child, list):
            holder = Slot(node, match["name"], child, slot)
            found += [Slot(child, i, item, holder) for i, item in enumerate(child)]
        else:
            found.append(Slot(node, match["name"], child, slot))
    if match["index"] is not None:
        index = int(match["index"])
        found = found[index : index + 1]
    return found


def locate(resource: dict, path: str) -> list[Slot]:
    segments = _segments(path)
    if segments[0] != resource.get("resourceType"):
        raise BadRequest(f"FHIRPath Patch path '{path}' must start with {resource.get('resourceType')}")
    slots = [Slot(None, None, resource)]
    for segment in segments[1:]:
        slots = _step(slots, segment.strip(), path)
    return slots


def _one(slots: list[Slot], operation: Operation) -> Slot:
    if len(slots) != 1:
        raise Unprocessable(
            f"FHIRPath Patch {operation.type}: path '{operation.path}' matches {len(slots)}"
            " elements; it must match exactly one"
        )
    return slots[0]


def _list_at(resource: dict, operation: Operation) -> list:
    """The list a path names (`Patient.name`): every matched item must share one list."""
    slots = locate(resource, operation.path)
    lists = {id(s.container): s.container for s in slots if isinstance(s.container, list)}
    if len(lists) != 1 or len(slots) != len(next(iter(lists.values()))):
        raise Unprocessable(f"FHIRPath Patch {operation.type}: path '{operation.path}' must name one list")
    return next(iter(lists.values()))


def _inside(slot: Slot, operation: Operation) -> Slot:
    """The slot of an element within the resource: the resource itself cannot be deleted or replaced."""
    if slot.container is None:
        raise Unprocessable(
            f"FHIRPath Patch {operation.type}: path '{operation.path}' names the resource itself, not an element in it"
        )
    return slot


def _remove(slot: Slot) -> None:
    if isinstance(slot.container, list):
        assert isinstance(slot.key, int)  # a list's slots are its indexes
        del slot.container[slot.key]
        if not slot.container and slot.parent is not None:  # R4 json.html: no empty arrays
            del cast(dict, slot.parent.container)[slot.parent.key]  # the slot holding a list is a dict's
    else:
        del cast(dict, slot.container)[slot.key]


def apply_operation(resource: dict, operation: Operation, as_list: bool) -> None:
    """Change resource in place; `as_list`: an added element that is absent goes in as a list."""
    kind = operation.type
    if kind == "add":
        target = _one(locate(resource, operation.path), operation).value
        if not isinstance(target, dict):
            raise Unprocessable(f"FHIRPath Patch add: '{operation.path}' is not an element with children")
        existing = target.get(operation.name)
        if isinstance(existing, list):
            existing.append(operation.value)
        elif existing is not None:
            raise Unprocessable(f"FHIRPath Patch add: {operation.path}.{operation.name} already has a value")
        else:
            target[operation.name] = [operation.value] if as_list else operation.value
    elif kind == "insert":
        items = _list_at(resource, operation)
        if operation.index is None or not 0 <= operation.index <= len(items):
            raise Unprocessable(f"FHIRPath Patch insert: index {operation.index} is outside '{operation.path}'")
        items.insert(operation.index, operation.value)
    elif kind == "delete":
        slots = locate(resource, operation.path)
        if slots:  # deleting what is not there changes nothing
            _remove(_inside(_one(slots, operation), operation))
    elif kind == "replace":
        slot = _inside(_one(locate(resource, operation.path), operation), operation)
        if isinstance(slot.container, list):
            assert isinstance(slot.key, int)  # a list's slots are its indexes
            slot.container[slot.key] = operation.value
        else:
            cast(dict, slot.container)[slot.key] = operation.value
    elif kind == "move":
        items = _list_at(resource, operation)
        if not (
            operation.source is not None
            and 0 <= operation.source < len(items)
            and operation.destination is not None
            and 0 <= operation.destination < len(items)
        ):
            raise Unprocessable(f"FHIRPath Patch move: source or destination is outside '{operation.path}'")
        items.insert(operation.destination, items.pop(operation.source))
    else:
        raise BadRequest(f"FHIRPath Patch operation type '{kind}' is not supported")


def _part_value(part: dict):
    values = [v for k, v in part.items() if k.startswith("value")]
    if len(values) == 1:
        return values[0]
    if "part" in part:
        return {p.get("name"): _part_value(p) for p in part["part"] if isinstance(p, dict)}
    return None


def parse_operations(parameters: dict) -> list[Operation]:
    """The operations of a FHIRPath Patch Parameters resource; 400 when malformed."""
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise BadRequest("A FHIRPath Patch body must be a Parameters resource")
    operations = []
    for index, parameter in enumerate(parameters.get("parameter") or []):
        if not isinstance(parameter, dict) or parameter.get("name") != "operation":
            raise BadRequest(f"Parameters.parameter[{index}] must be an 'operation'")
        parts = {p.get("name"): _part_value(p) for p in parameter.get("part") or [] if isinstance(p, dict)}
        kind, path = parts.get("type"), parts.get("path")
        if not isinstance(kind, str) or not isinstance(path, str):
            raise BadRequest(f"Parameters.parameter[{index}] needs a type and a path")
        ints = {k: parts.get(k) for k in ("index", "source", "destination")}
        if any(v is not None and not isinstance(v, int) for v in ints.values()):
            raise BadRequest(f"Parameters.parameter[{index}]: index, source and destination are integers")
        if kind in ("add", "insert", "replace") and parts.get("value") is None:
            raise BadRequest(f"Parameters.parameter[{index}]: {kind} needs a value")
        if kind == "add" and not isinstance(parts.get("name"), str):
            raise BadRequest(f"Parameters.parameter[{index}]: add needs a name")
        operations.append(Operation(kind, path, parts.get("name"), parts.get("value"), **ints))
    if not operations:
        raise BadRequest("The FHIRPath Patch has no operations")
    return operations
