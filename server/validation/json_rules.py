"""Rules of FHIR JSON that the models let through (R4 json.html): no empty objects, arrays or
strings, no nulls, no string over 1 MB, ids of the right form."""

from __future__ import annotations

import re

from ..fhir.outcomes import Issue
from ..fhir.references import is_valid_id

MAX_STRING_BYTES = 1024 * 1024
# R4 datatypes.html#string: no characters below U+0020 but tab, CR and LF (PostgreSQL's jsonb refuses U+0000)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def _plainly_valid(value) -> bool:
    """A quick pass without paths: nearly every resource is valid, and building a path for every
    node cost more than the check itself. False only means "look closer" (json_rule_issues)."""
    if isinstance(value, str):
        return bool(value.strip()) and len(value) <= MAX_STRING_BYTES // 4 and not _CONTROL.search(value)
    if isinstance(value, (dict, list)):
        return bool(value) and all(map(_plainly_valid, value.values() if isinstance(value, dict) else value))
    return value is not None


def json_rule_issues(value, path: str) -> list[Issue]:
    if _plainly_valid(value):
        return []
    return _issues(value, path)


def _issues(value, path: str) -> list[Issue]:
    issues: list[Issue] = []
    if isinstance(value, dict):
        if not value:
            issues.append(Issue("Objects must have content (R4 json.html)", "required", expression=(path,)))
        for key, child in value.items():
            issues += _issues(child, _child(path, key))
    elif isinstance(value, list):
        if not value:
            issues.append(Issue("Arrays must not be empty (R4 json.html)", "required", expression=(path,)))
        for index, child in enumerate(value):
            if child is None and not path.rsplit(".", 1)[-1].startswith("_"):
                issues.append(Issue("null is not allowed here", "structure", expression=(_child(path, index),)))
            else:
                issues += _issues(child, _child(path, index))
    elif value is None:
        issues.append(Issue("null is not allowed in FHIR JSON", "structure", expression=(path,)))
    elif isinstance(value, str):
        if not value.strip():
            issues.append(Issue("Strings must not be empty or only whitespace", "value", expression=(path,)))
        elif len(value) > MAX_STRING_BYTES // 4 and len(value.encode()) > MAX_STRING_BYTES:
            issues.append(Issue("String exceeds FHIR's 1 MB limit", "too-long", expression=(path,)))
        elif match := _CONTROL.search(value):
            issues.append(
                Issue(
                    f"Strings may not contain the control character U+{ord(match.group()):04X}"
                    " (only tab, CR and LF below U+0020; R4 datatypes.html#string)",
                    "value",
                    expression=(path,),
                )
            )
    return issues


def id_issues(resource: dict, resource_type: str) -> list[Issue]:
    if "id" in resource and not is_valid_id(resource["id"]):
        return [
            Issue(
                "Invalid id: expected 1-64 characters of A-Z, a-z, 0-9, '-' and '.'",
                "value",
                expression=(f"{resource_type}.id",),
            )
        ]
    return []
