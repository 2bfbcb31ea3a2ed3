"""fixed[x] and pattern[x] (R4 elementdefinition-definitions.html#ElementDefinition.pattern_x_): a pattern
matches when every property it has is in the value, and every item of a pattern array matches some item."""

from __future__ import annotations


def matches_pattern(pattern, value) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches_pattern(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value] if value is not None else []
        return all(any(matches_pattern(p, v) for v in items) for p in pattern)
    return pattern == value


def value_at(value, path: str):
    """The value at a simple discriminator path (`url`, `coding.system`, `$this`); the first of a list."""
    if path == "$this":
        return value
    for name in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
