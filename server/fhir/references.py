"""Literal references: `Patient/123`, `Patient/123/_history/2`, absolute URLs (R4 references.html)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .outcomes import BadRequest

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")
_RELATIVE = re.compile(
    r"^(?:(?P<base>.*)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-\.]{1,64})(?:/_history/(?P<vid>[A-Za-z0-9\-\.]{1,64}))?$"
)


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


def require_valid_id(resource_type: str, id: str) -> None:
    """An id in a URL that no resource could have is the client's error (400), not an unknown one (404)."""
    if not is_valid_id(id):
        raise BadRequest(
            f"'{id[:64]}' is not a valid {resource_type} id: 1 to 64 characters of A-Z, a-z, 0-9, '-'"
            " and '.' (R4 datatypes.html#id)"
        )
