"""Parsing a search request into a SearchPlan (R4 search.html): parameters are checked against the
registry; an unknown one becomes a warning, or a 400 under `Prefer: handling=strict`."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from ..fhir.outcomes import BadRequest, FhirError, Issue
from ..storage.search import SearchPlan, SortKey
from .criteria import CriterionBuilder, UnknownParameter
from .dates import parse_range
from .includes import include_values, iterate_values, revinclude_values
from .registry import Registry, ResourceDefinition

MAX_VALUE_LENGTH = 4096
SUMMARY_MODES = ("true", "false", "text", "data", "count")
TOTAL_MODES = ("none", "estimate", "accurate")
# Result parameters (R4 search.html#return): kept in paging links, never criteria.
RESULT_PARAMS = frozenset(
    {
        "_count",
        "_total",
        "_sort",
        "_include",
        "_revinclude",
        "_include:iterate",
        "_revinclude:iterate",
        "_summary",
        "_elements",
        "_cursor",
        "_type",
    }
)
NOT_SUPPORTED = frozenset({"_contained", "_containedType", "_text", "_content", "_list", "_query", "_filter"})


@dataclass(frozen=True)
class Include:
    """_include (forward) or _revinclude (reverse): source_type's reference param, optionally to one type."""

    source_type: str
    param: str  # "*" for every reference parameter
    target_type: str | None
    reverse: bool
    iterate: bool


@dataclass
class ParsedSearch:
    plan: SearchPlan
    link_pairs: list[tuple[str, str]] = field(default_factory=list)  # repeated in self/next/prev links
    warnings: list[Issue] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    summary: str | None = None
    elements: tuple[str, ...] = ()


def parse_count(text: str, maximum: int) -> int:
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(f"Invalid _count '{text}': expected a non-negative integer", location="http._count")
    return min(int(text), maximum)  # R4: the server may return fewer than asked; clamp, don't refuse


def parse_since(text: str) -> datetime:
    """_since (history, $everything): an instant; its start is the bound."""
    try:
        return parse_range(text)[0]
    except ValueError:
        raise BadRequest(f"Invalid _since '{text}': expected an instant", location="http._since") from None


def parse_cursor(text: str) -> int:
    """The integer cursor of history paging."""
    if not text.isdigit() or len(text) > 18:
        raise BadRequest(f"Invalid paging cursor '{text}'", location="http._cursor")
    return int(text)


def encode_search_cursor(direction: str, sort_values: tuple, seq: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([direction, list(sort_values), seq])).decode().rstrip("=")


def decode_search_cursor(text: str, sort_keys: int) -> tuple:
    try:
        direction, values, seq = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if (
            direction in ("after", "before")
            and isinstance(seq, int)
            and len(values) == sort_keys
            and all(isinstance(v, str) for v in values)
        ):
            return direction, tuple(values), seq
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        pass
    raise BadRequest("Invalid or outdated paging cursor; start the search again", location="http._cursor")


def as_parameter_issue(issue: Issue) -> Issue:
    """A search parameter is no element of a resource: R4 names it in location as http.<name>, not
    in expression (operationoutcome.html#OperationOutcome.issue.location)."""
    if not issue.expression:
        return issue
    moved = tuple(path if path.startswith("http.") else f"http.{path}" for path in issue.expression)
    return dataclasses.replace(issue, expression=(), location=issue.location + moved)


class SearchParser:
    def __init__(
        self,
        definition: ResourceDefinition,
        base_url: str,
        default_count: int,
        max_count: int,
        registry: Registry | None = None,
        resource_types: tuple[str, ...] | None = None,
    ):
        self.definition = definition
        registry = registry or definition.registry
        self.registry = registry
        self.resource_types = resource_types or (definition.type,)
        self.max_count = max_count
        self.default_count = default_count
        self.criteria = CriterionBuilder(registry, base_url)

    def parse(self, pairs: list[tuple[str, str]], strict: bool = False) -> ParsedSearch:
        parsed = ParsedSearch(SearchPlan(self.resource_types, count=self.default_count))
        cursor = None
        try:
            for name, value in pairs:
                self._check_hostile(name, value)
                if name == "_cursor":
                    cursor = value
                elif name in RESULT_PARAMS:
                    self._result_param(parsed, name, value)
                    parsed.link_pairs.append((name, value))
                elif self._criterion(parsed, name, value, strict):
                    parsed.link_pairs.append((name, value))
            if cursor is not None:
                parsed.plan.cursor = decode_search_cursor(cursor, len(parsed.plan.sort))
        except FhirError as error:
            error.issues = [as_parameter_issue(issue) for issue in error.issues]
            raise
        return parsed

    @staticmethod
    def _check_hostile(name: str, value: str) -> None:
        if len(value) > MAX_VALUE_LENGTH or len(name) > 256:
            raise BadRequest(f"Parameter '{name[:64]}' is too long", expression=name[:64])
        if "\x00" in value or "\x00" in name:
            raise BadRequest(f"Parameter '{name[:64]}' contains a NUL character", expression=name[:64])

    def _criterion(self, parsed: ParsedSearch, name: str, value: str, strict: bool) -> bool:
        base = name.partition(":")[0].partition(".")[0]
        try:
            if base in NOT_SUPPORTED:
                raise UnknownParameter(f"Search parameter '{base}' is not supported")
            criterion = self.criteria.build(self.definition, name, value)
            self._check_all_types(name)
        except UnknownParameter as unknown:
            if strict:
                raise BadRequest(str(unknown), expression=name) from None
            parsed.warnings.append(
                Issue(f"{unknown}; it was ignored", "not-supported", "warning", location=(f"http.{name}",))
            )
            return False
        parsed.plan.criteria.append(criterion)
        return True

    def _check_all_types(self, name: str) -> None:
        """A search across types (_type) may use only parameters every one of the types defines."""
        code = name.partition(":")[0].partition(".")[0]
        for resource_type in self.resource_types[1:]:
            assert self.registry is not None  # a search across types is parsed with the registry naming them
            definition = self.registry.get(resource_type)
            assert definition is not None  # _type names registered types only
            if code not in definition.params:
                raise UnknownParameter(f"Search parameter '{code}' is not defined for {resource_type}")

    def _result_param(self, parsed: ParsedSearch, name: str, value: str) -> None:
        if name == "_count":
            parsed.plan.count = parse_count(value, self.max_count)
        elif name == "_total":
            if value not in TOTAL_MODES:
                raise BadRequest(
                    f"Invalid _total '{value}': expected none, estimate or accurate", location="http._total"
                )
            parsed.plan.total = value
        elif name == "_summary":
            if value not in SUMMARY_MODES:
                raise BadRequest(f"Invalid _summary '{value}'", location="http._summary")
            parsed.summary = value
            if value == "count":
                parsed.plan.count = 0
        elif name == "_elements":
            parsed.elements = tuple(e.strip() for e in value.split(",") if e.strip())
        elif name == "_sort":
            parsed.plan.sort = tuple(self._sort_key(key) for key in value.split(","))
        elif name.startswith(("_include", "_revinclude")):
            parsed.includes += [self._include(name, v) for v in value.split(",")]

    def _sort_key(self, text: str) -> SortKey:
        descending = text.startswith("-")
        code = text.lstrip("-")
        if code in ("_id", "_lastUpdated"):
            return SortKey("column", code, descending)
        param = self.definition.params.get(code)
        if param is None:
            raise BadRequest(
                f"Cannot sort by '{code}': not a search parameter of {self.definition.type}", location="http._sort"
            )
        return SortKey(param.type, param.index_param, descending, param.part)

    def _include(self, name: str, value: str) -> Include:
        reverse = name.startswith("_revinclude")
        iterate = name.endswith(":iterate")
        if value == "*":
            return Include(self.definition.type, "*", None, reverse, iterate)
        parts = value.split(":")
        if len(parts) not in (2, 3) or self.registry is None or self.registry.get(parts[0]) is None:
            raise BadRequest(f"Invalid {name} '{value}': expected Type:parameter[:targetType]", expression=name)
        if value not in self._accepted_includes(reverse, iterate):
            searched = " or ".join(self.resource_types)
            raise BadRequest(
                f"Invalid {name} '{value}': not a reference parameter "
                f"{'that can point at ' if reverse else 'of '}{searched} (see searchInclude and"
                " searchRevInclude in the CapabilityStatement)",
                expression=name,
            )
        return Include(parts[0], parts[1], parts[2] if len(parts) == 3 else None, reverse, iterate)

    def _accepted_includes(self, reverse: bool, iterate: bool):
        if iterate:
            return iterate_values(self.registry)
        values = revinclude_values if reverse else include_values
        return {value for t in self.resource_types for value in values(self.registry, t)}
