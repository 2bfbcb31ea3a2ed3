"""String search (R4 search.html#string): a case- and accent-insensitive starts-with by default,
`:exact` as written, `:contains` anywhere. A HumanName's or Address's texts are rows of their
element (part), so that `family` is searched in the rows of `name`."""

from __future__ import annotations

from ...fhir.outcomes import BadRequest
from ...storage.index.string import StringCriterion
from ..normalize import normalize
from ..registry import ADDRESS_PARTS, NAME_PARTS

CRITERION = StringCriterion
MODIFIERS = frozenset({"", "exact", "contains"})


def strings(value) -> list[tuple[str, str | None]]:
    """(text, part): a string, or a HumanName's or an Address's texts with the element each comes from."""
    if isinstance(value, str):
        return [(value, None)]
    if not isinstance(value, dict):
        return []
    parts = NAME_PARTS if "family" in value or "given" in value else ADDRESS_PARTS
    found: list[tuple[str, str | None]] = []
    for part in parts:
        item = value.get(part)
        texts = item if isinstance(item, list) else [item] if isinstance(item, str) else []
        found += [(text, part) for text in texts]
    return found


def extract(param, value, base_url: str, rows: dict[str, list]) -> None:
    rows["string"] += [(param.name, normalize(text), text, part) for text, part in strings(value)]


def criterion(param, modifier: str, values: list[str], name: str, base_url: str):
    if modifier not in MODIFIERS:
        raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{param.name}'", expression=name)
    if modifier == "exact":
        return StringCriterion(
            param.index_param, tuple(values), "exact", tuple(normalize(v) for v in values), param.part
        )
    return StringCriterion(
        param.index_param, tuple(normalize(v) for v in values), modifier or "starts", part=param.part
    )


def _text_matches(criterion: StringCriterion, normalized: str, exact: str) -> bool:
    """storage/index/string.py's condition, in memory (LIKE on the normalized text)."""
    if criterion.mode == "exact":
        return normalized in criterion.normalized and exact in criterion.values
    if criterion.mode == "contains":  # with the SQL's trigram-index predicate: never a token :text row
        return not criterion.param.endswith(":text") and any(value in normalized for value in criterion.values)
    return any(normalized.startswith(value) for value in criterion.values)


def matches(criterion: StringCriterion, rows: dict[str, list]) -> bool:
    return any(
        param == criterion.param
        and (criterion.part is None or part == criterion.part)
        and _text_matches(criterion, normalized, exact)
        for param, normalized, exact, part in rows.get("string", ())
    )
