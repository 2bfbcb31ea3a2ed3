"""Literal references: `Patient/123`, `Patient/123/_history/2`, absolute URLs (R4 references.html)."""
from __future__ import annotations

import re
from dataclasses import dataclass

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")
_RELATIVE = re.compile(r"^(?:(?P<base>.*)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-\.]{1,64})(?:/_history/(?P<vid>[A-Za-z0-9\-\.]{1,64}))?$")


@dataclass(frozen=True)
class Reference:
    resource_type: str
    id: str
    base: str | None = None
    version: str | None = None

    @property
    def relative(self) -> str:
        return f"{self.resource_type}/{self.id}"


def parse_reference(value: str) -> Reference | None:
    """The type and id a literal reference points at, or None (urn:uuid, #contained, malformed)."""
    if not value or value.startswith("#") or value.startswith("urn:"):
        return None
    match = _RELATIVE.match(value)
    if not match:
        return None
    return Reference(match["type"], match["id"], match["base"] or None, match["vid"])


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value))
