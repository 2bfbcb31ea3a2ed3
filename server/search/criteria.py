"""One search parameter of a query (name[:modifier][.chain]=values, or _has:...) turned into a
criterion for the storage layer (R4 search.html#modifiers, #chaining, #has)."""

from __future__ import annotations

from ..fhir.outcomes import BadRequest
from ..storage.search import ChainCriterion, HasCriterion, IdCriterion, MissingCriterion
from .registry import Registry, ResourceDefinition, SearchParam
from .types import SEARCH_TYPES
from .values import split_unescaped

MAX_CHAIN_DEPTH = 4


class UnknownParameter(Exception):
    """A parameter the type does not define: a warning, or 400 under handling=strict."""


class CriterionBuilder:
    def __init__(self, registry: Registry | None, base_url: str):
        self.registry = registry
        self.base_url = base_url

    def build(self, definition: ResourceDefinition, name: str, raw: str, depth: int = 0):
        if depth > MAX_CHAIN_DEPTH:
            raise BadRequest(f"'{name}' chains deeper than {MAX_CHAIN_DEPTH} levels", expression=name)
        if name.startswith("_has:"):
            return self._has(definition, name, raw, depth)
        head, dot, rest = name.partition(".")
        code, _, modifier = head.partition(":")
        param = definition.params.get(code)
        if param is None:
            raise UnknownParameter(f"Unknown search parameter '{code}' for {definition.type}")
        if dot:
            return self._chain(definition, param, modifier, rest, raw, depth)
        values = split_unescaped(raw, ",")
        if not raw or any(v == "" for v in values):
            raise BadRequest(f"Empty value for search parameter '{name}'", expression=name)
        if modifier == "missing":
            if raw not in ("true", "false") or code in ("_id", "_lastUpdated"):
                raise BadRequest(f"':missing' takes true or false on '{code}'", expression=name)
            return MissingCriterion(param.type, param.index_param, raw == "true", param.part)
        return self._value_criterion(param, modifier, values, name)

    def _value_criterion(self, param: SearchParam, modifier: str, values: list[str], name: str):
        if param.name == "_id":
            if modifier:
                raise BadRequest(f"Unsupported modifier ':{modifier}' on parameter '_id'", expression=name)
            return IdCriterion(tuple(values))
        search_type = SEARCH_TYPES.get(param.type)
        if search_type is None:
            raise BadRequest(f"Search parameter '{param.name}' of type {param.type} is not supported", expression=name)
        return search_type.criterion(param, modifier, values, name, self.base_url)

    def _definition(self, resource_type: str, name: str) -> ResourceDefinition:
        definition = self.registry.get(resource_type) if self.registry else None
        if definition is None:
            raise BadRequest(f"'{name}' refers to {resource_type}, which this server does not hold", expression=name)
        return definition

    def _chain(self, definition, param: SearchParam, modifier: str, rest: str, raw: str, depth: int):
        """R4 search.html#chaining: `subject:Patient.name=x` -- the target must match `name=x`."""
        name = f"{param.name}.{rest}"
        if param.type != "reference":
            raise BadRequest(f"'{param.name}' is not a reference parameter, so it cannot be chained", expression=name)
        targets = [modifier] if modifier else [t for t in param.targets if self.registry and self.registry.get(t)]
        chained_code = rest.partition(".")[0].partition(":")[0]
        targets = [t for t in targets if chained_code in self._definition(t, name).params]
        if not targets:
            raise BadRequest(
                f"No target type of '{param.name}' has a search parameter '{chained_code}'", expression=name
            )
        inner = [self.build(self._definition(t, name), rest, raw, depth + 1) for t in targets[:1]]
        if len(targets) > 1:  # the same parameter on several targets: each must parse the same way
            for target in targets[1:]:
                self.build(self._definition(target, name), rest, raw, depth + 1)
        return ChainCriterion(param.name, tuple(targets), tuple(inner))

    def _has(self, definition, name: str, raw: str, depth: int):
        """R4 search.html#has: `_has:MedicationRequest:patient:status=active`."""
        parts = name.split(":", 3)
        if len(parts) != 4 or not all(parts[1:]):
            raise BadRequest(f"'{name}' must read _has:Type:reference-parameter:parameter", expression=name)
        _, source_type, param_code, rest = parts
        source = self._definition(source_type, name)
        param = source.params.get(param_code)
        if param is None or param.type != "reference" or (param.targets and definition.type not in param.targets):
            raise BadRequest(f"{source_type}.{param_code} is not a reference to {definition.type}", expression=name)
        return HasCriterion(source_type, param_code, (self.build(source, rest, raw, depth + 1),))
