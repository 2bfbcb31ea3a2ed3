"""Search values of each type, as written in a query (R4 search.html#escaping, #token, #reference,
#quantity, #number)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ..fhir.outcomes import BadRequest
from ..fhir.references import parse_reference
from ..storage.index.quantity import QuantityValue
from ..storage.index.reference import ReferenceValue
from ..storage.index.token import ANY_SYSTEM, TokenValue
from .dates import PREFIXES
from .extract import precision_range


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


def token_value(text: str) -> TokenValue:
    """`code`, `system|code`, `|code` (no system) or `system|` (any code of the system)."""
    pieces = split_unescaped(text, "|")
    if len(pieces) == 1:
        return TokenValue(ANY_SYSTEM, pieces[0])
    system, code = pieces[0], "|".join(pieces[1:])
    if not code:
        return TokenValue(system, None)
    return TokenValue(system or None, code)


def reference_value(text: str, type_modifier: str | None, base_url: str) -> ReferenceValue:
    """`123`, `Patient/123`, or an absolute URL (local when it starts with our base URL)."""
    if "/" not in text:
        return ReferenceValue(type_modifier, text)
    reference = parse_reference(text)
    if reference is None:
        return ReferenceValue(None, text)
    if type_modifier and reference.resource_type != type_modifier:
        raise BadRequest(f"Reference '{text}' does not match the type modifier ':{type_modifier}'")
    if reference.base is not None and reference.base.rstrip("/") != base_url:
        return ReferenceValue(reference.resource_type, text)
    return ReferenceValue(reference.resource_type, reference.id)


def _prefixed(text: str) -> tuple[str, str]:
    if text[:2] in PREFIXES:
        return text[:2], text[2:]
    return "eq", text


def quantity_value(param: str, text: str) -> QuantityValue:
    """`[prefix]number[|system|code]`; the number's precision gives its range."""
    pieces = split_unescaped(text, "|")
    prefix, number = _prefixed(pieces[0])
    try:
        low, high = precision_range(Decimal(number))
    except InvalidOperation:
        raise BadRequest(f"Invalid quantity '{text}' for parameter '{param}'", expression=param) from None
    if len(pieces) not in (1, 3):
        raise BadRequest(f"Invalid quantity '{text}' for '{param}': expected number|system|code", expression=param)
    system, code = (pieces[1] or None, pieces[2] or None) if len(pieces) == 3 else (None, None)
    return QuantityValue(prefix, low, high, system, code)
