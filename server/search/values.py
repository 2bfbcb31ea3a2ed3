"""Search values as written in a query: escaping and prefixes, shared by every search type
(R4 search.html#escaping, #prefix)."""

from __future__ import annotations

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split on separators not escaped with a backslash, then unescape."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char if char in ",$|\\" else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current) + ("\\" if escaped else ""))
    return parts


def split_prefix(text: str) -> tuple[str, str]:
    """`ge2026` -> (ge, 2026); no prefix means eq."""
    if text[:2] in PREFIXES:
        return text[:2], text[2:]
    return "eq", text
