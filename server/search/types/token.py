"""Token search (R4 search.html#token): (system, code) pairs of a Coding, CodeableConcept,
Identifier, ContactPoint, code or boolean. `:text` searches the texts as string rows, `:of-type`
an Identifier's type and value as token rows under `name:of-type`; `:not` is the complement."""

from __future__ import annotations

from ...fhir.outcomes import BadRequest
from ...storage.index.string import StringCriterion
from ...storage.index.token import ANY_SYSTEM, TokenCriterion, TokenValue
from ..normalize import normalize
from ..values import split_unescaped

CRITERION = TokenCriterion
MODIFIERS = frozenset({"", "not", "text", "of-type"})
_CONTACT_POINT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})


def tokens(value) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a token-typed value."""
    if isinstance(value, bool):
        return [(None, "true" if value else "false")]
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value or "text" in value and "value" not in value:  # CodeableConcept
        return [pair for coding in value.get("coding", []) for pair in tokens(coding)]
    if "code" in value:  # Coding
        return [(value.get("system"), value["code"])]
    if isinstance(value.get("value"), str):
        if value.get("system") in _CONTACT_POINT_SYSTEMS:  # ContactPoint: matched on its value
            return [(None, value["value"])]
        return [(value.get("system"), value["value"])]  # Identifier
    return []


def _texts(value) -> list[str]:
    """What `:text` searches: CodeableConcept.text, Coding.display, Identifier.type.text."""
    if not isinstance(value, dict):
        return []
    texts = [value["text"]] if isinstance(value.get("text"), str) else []
    texts += [c["display"] for c in value.get("coding", []) if isinstance(c, dict) and "display" in c]
    if "display" in value and "code" in value:
        texts.append(value["display"])
    if isinstance(value.get("type"), dict):
        texts += _texts(value["type"])
    return texts


def _of_type(value) -> list[str]:
    """Identifier `:of-type` values: type-system|type-code|value."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), dict) or "value" not in value:
        return []
    return [
        f"{c.get('system', '')}|{c['code']}|{value['value']}" for c in value["type"].get("coding", []) if "code" in c
    ]


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    """The token rows of one value (and its `:of-type` and `:text` rows)."""
    name = param.name
    rows["token"] += [(name, system, code) for system, code in tokens(value) if code]
    rows["token"] += [(f"{name}:of-type", None, text) for text in _of_type(value)]
    rows["string"] += [(f"{name}:text", normalize(text), text, None) for text in _texts(value)]


def token_value(text: str) -> TokenValue:
    """`code`, `system|code`, `|code` (no system) or `system|` (any code of the system)."""
    pieces = split_unescaped(text, "|")
    if len(pieces) == 1:
        return TokenValue(ANY_SYSTEM, pieces[0])
    system, code = pieces[0], "|".join(pieces[1:])
    if not code:
        return TokenValue(system, None)
    return TokenValue(system or None, code)


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier not in MODIFIERS:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{param.name}'", expression=name)
    if modifier == "text":  # R4: a starts-with match on the text or display of the coding
        return StringCriterion(f"{param.name}:text", tuple(normalize(v) for v in values))
    if modifier == "of-type":  # value is type-system|type-code|identifier-value
        return TokenCriterion(f"{param.name}:of-type", tuple(TokenValue(ANY_SYSTEM, v) for v in values))
    return TokenCriterion(param.name, tuple(token_value(v) for v in values), negated=modifier == "not")


def _value_matches(value: TokenValue, system, code) -> bool:
    """storage/index/token.py's _value_condition, in memory."""
    if value.code is None:
        return system == value.system
    if value.system is ANY_SYSTEM:
        return code == value.code
    return code == value.code and system == value.system


def matches(criterion: TokenCriterion, rows: dict[str, list]) -> bool:
    """R4 :not also matches resources with no value, as the SQL's NOT IN does."""
    found = any(
        param == criterion.param and any(_value_matches(v, system, code) for v in criterion.values)
        for param, system, code in rows.get("token", ())
    )
    return found != criterion.negated
