"""SMART scopes, v1 (`patient/Observation.read`) and v2 (`patient/Observation.rs?category=...`)
(SMART App Launch 2.x, scopes-and-launch-context.html)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)\."
    r"(?P<permissions>read|write|\*|c?r?u?d?s?)(?:\?(?P<query>.+))?$"
)
_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}


# The security log is granted only by a system/ or user/ scope naming it (system/AuditEvent.rs): a
# wildcard (system/*.cruds, patient/*.rs) never reaches it.
NAMED_ONLY = frozenset({"AuditEvent"})


@dataclass(frozen=True)
class ResourceScope:
    context: str  # patient, user or system
    resource_type: str  # a type or "*"
    permissions: frozenset[str]  # of c r u d s
    query: str | None = None  # v2 granular restriction, e.g. category=...|problem-list-item

    def covers(self, permission: str | None, resource_type: str) -> bool:
        if resource_type in NAMED_ONLY:
            return permission in self.permissions and self.resource_type == resource_type and self.context != "patient"
        return permission in self.permissions and self.resource_type in ("*", resource_type)


def parse_scope(text: str) -> ResourceScope | None:
    """The resource scope a string grants, or None for other scopes (openid, launch, offline_access...)."""
    match = _SCOPE.match(text)
    if not match or not match["permissions"]:
        return None
    permissions = _V1_PERMISSIONS.get(match["permissions"], match["permissions"])
    return ResourceScope(match["context"], match["type"], frozenset(permissions), match["query"])


def parse_scopes(scope_string: str) -> list[ResourceScope]:
    return [scope for text in scope_string.split() if (scope := parse_scope(text)) is not None]


def _covers_scope(granted: ResourceScope, requested: ResourceScope) -> bool:
    """`granted` allows everything `requested` does: same context, type, permissions, and no
    granular query that `requested` would drop."""
    return (
        granted.context == requested.context
        and granted.resource_type in ("*", requested.resource_type)
        and requested.permissions <= granted.permissions
        and (granted.query is None or granted.query == requested.query)
    )


def scope_covered(text: str, granted: str) -> bool:
    """Whether one requested scope string is within a granted scope string, compared as SMART scopes
    (scopes-and-launch-context.html): `patient/Condition.r` is within `patient/*.read`."""
    granted_texts = granted.split()
    if text in granted_texts:
        return True
    requested = parse_scope(text)
    if requested is None:
        return False
    return any(scope is not None and _covers_scope(scope, requested) for scope in map(parse_scope, granted_texts))


def is_narrowing(requested: str, granted: str) -> bool:
    """Every scope in `requested` is within `granted` (a refresh may narrow, never widen)."""
    return all(scope_covered(text, granted) for text in requested.split())


def has_context(scope_string: str, context: str) -> bool:
    return any(scope.context == context for scope in parse_scopes(scope_string))
