"""Parsing a search request into a SearchPlan (R4 search.html): parameters are checked against the
registry; an unknown one becomes a warning, or a 400 under `Prefer: handling=strict`."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..fhir.outcomes import BadRequest, Issue
from ..fhir.references import parse_reference
from ..storage.index.date import DateCriterion
from ..storage.index.reference import ReferenceCriterion, ReferenceValue
from ..storage.index.token import ANY_SYSTEM, TokenCriterion, TokenValue
from ..storage.search import IdCriterion, SearchPlan
from .dates import parse_date_value
from .registry import ResourceDefinition

# Result parameters (R4 search.html#return) we honour, and the ones still to come.
RESULT_PARAMS = frozenset({"_count", "_cursor", "_total", "_format", "_pretty"})
NOT_YET_SUPPORTED = frozenset({"_sort", "_include", "_revinclude", "_summary", "_elements", "_contained",
                               "_containedType", "_has", "_type", "_text", "_content", "_list", "_query", "_filter"})
MAX_VALUE_LENGTH = 4096


@dataclass
class ParsedSearch:
    plan: SearchPlan
    link_pairs: list[tuple[str, str]] = field(default_factory=list)  # repeated in self/next links
    warnings: list[Issue] = field(default_factory=list)


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split on separators not escaped with a backslash, then unescape (R4 search.html#escaping)."""
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


def _token_value(text: str) -> TokenValue:
    pieces = split_unescaped(text, "|")
    if len(pieces) == 1:
        return TokenValue(ANY_SYSTEM, pieces[0])
    system, code = pieces[0], "|".join(pieces[1:])
    if not code:
        return TokenValue(system, None)
    return TokenValue(system or None, code)


def _reference_value(text: str, type_modifier: str | None, base_url: str) -> ReferenceValue:
    if "/" not in text:
        return ReferenceValue(type_modifier, text)
    reference = parse_reference(text)
    if reference is None:
        return ReferenceValue(None, text)
    if reference.base is not None and reference.base.rstrip("/") != base_url:
        return ReferenceValue(reference.resource_type, text)
    return ReferenceValue(reference.resource_type, reference.id)


def parse_count(text: str, maximum: int) -> int:
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(f"Invalid _count '{text}': expected a non-negative integer", expression="_count")
    return min(int(text), maximum)  # R4: the server may return fewer than asked; clamp, don't refuse


def parse_cursor(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise BadRequest(f"Invalid paging cursor '{text}'", expression="_cursor")
    return int(text)


class SearchParser:
    def __init__(self, definition: ResourceDefinition, base_url: str, default_count: int, max_count: int):
        self.definition = definition
        self.base_url = base_url
        self.default_count = default_count
        self.max_count = max_count

    def parse(self, pairs: list[tuple[str, str]], strict: bool = False) -> ParsedSearch:
        parsed = ParsedSearch(SearchPlan(self.definition.type, count=self.default_count))
        for name, value in pairs:
            if len(value) > MAX_VALUE_LENGTH:
                raise BadRequest(f"Value of parameter '{name}' is too long", expression=name)
            if "\x00" in value or "\x00" in name:
                raise BadRequest(f"Parameter '{name}' contains a NUL character", expression=name)
            if name in RESULT_PARAMS:
                self._result_param(parsed, name, value)
                continue
            criterion = self._criterion(name, value, parsed, strict)
            if criterion is not None:
                parsed.plan.criteria.append(criterion)
                parsed.link_pairs.append((name, value))
        return parsed

    def _result_param(self, parsed: ParsedSearch, name: str, value: str) -> None:
        if name == "_count":
            parsed.plan.count = parse_count(value, self.max_count)
        elif name == "_cursor":
            parsed.plan.after_seq = parse_cursor(value)
            return
        elif name == "_total":
            if value not in ("none", "estimate", "accurate"):
                raise BadRequest(f"Invalid _total '{value}': expected none, estimate or accurate", expression="_total")
            parsed.plan.with_total = value != "none"
        parsed.link_pairs.append((name, value))

    def _unknown(self, parsed: ParsedSearch, name: str, message: str, strict: bool) -> None:
        if strict:
            raise BadRequest(message, expression=name)
        parsed.warnings.append(Issue(message, "not-supported", "warning", (name,)))

    def _criterion(self, name: str, value: str, parsed: ParsedSearch, strict: bool):
        base, _, modifier = name.partition(":")
        if base in NOT_YET_SUPPORTED:
            self._unknown(parsed, name, f"Search parameter '{base}' is not supported yet; it was ignored", strict)
            return None
        param = self.definition.params.get(base.split(".")[0])
        if param is None:
            self._unknown(parsed, name, f"Unknown search parameter '{base}' for {self.definition.type}", strict)
            return None
        if "." in base:
            raise BadRequest(f"Chained search on '{base}' is not supported yet", expression=name)
        values = split_unescaped(value, ",")
        if any(v == "" for v in values):
            raise BadRequest(f"Empty value for search parameter '{name}'", expression=name)
        if base == "_id":
            self._no_modifier(name, modifier)
            return IdCriterion(tuple(values))
        if base == "_lastUpdated":
            self._no_modifier(name, modifier)
            return DateCriterion(base, tuple(parse_date_value(name, v) for v in values))
        if param.type == "token":
            if modifier not in ("", "not"):
                raise BadRequest(f"Unsupported modifier ':{modifier}' on token parameter '{base}'", expression=name)
            return TokenCriterion(base, tuple(_token_value(v) for v in values), negated=modifier == "not")
        if param.type == "reference":
            type_modifier = None
            if modifier:
                if modifier not in param.targets:
                    raise BadRequest(f"Unsupported modifier ':{modifier}' on reference parameter '{base}'",
                                     expression=name)
                type_modifier = modifier
            return ReferenceCriterion(base, tuple(_reference_value(v, type_modifier, self.base_url) for v in values))
        raise BadRequest(f"Search parameter '{base}' is not supported", expression=name)

    @staticmethod
    def _no_modifier(name: str, modifier: str) -> None:
        if modifier:
            raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '{name.partition(':')[0]}'",
                             expression=name)

