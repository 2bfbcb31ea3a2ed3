"""Which _include and _revinclude values a search accepts (R4 search.html#include), from the registry.

The parser and the CapabilityStatement (searchInclude, searchRevInclude) both ask here, so what is
declared is exactly what is accepted."""

from __future__ import annotations

from functools import cache

from .registry import Registry, SearchParam


def _targets(registry: Registry, param: SearchParam) -> tuple[str, ...]:
    """The stored types a reference parameter can point at (all of them when it names none)."""
    return tuple(t for t in param.targets if registry.get(t)) if param.targets else registry.types


@cache
def include_values(registry: Registry, resource_type: str) -> tuple[str, ...]:
    """`*`, and Type:param and Type:param:Target for each reference parameter of the type."""
    definition = registry.get(resource_type)
    assert definition is not None  # asked for stored types only
    values = ["*"]
    for param in sorted(definition.params.values(), key=lambda p: p.name):
        if param.type == "reference":
            values.append(f"{resource_type}:{param.name}")
            values += [f"{resource_type}:{param.name}:{target}" for target in _targets(registry, param)]
    return tuple(values)


@cache
def revinclude_values(registry: Registry, resource_type: str) -> tuple[str, ...]:
    """`*`, and Source:param and Source:param:Type for each reference parameter that can point at the type."""
    values = ["*"]
    for source in registry.types:
        source_definition = registry.get(source)
        assert source_definition is not None  # registry.types lists its own definitions
        for param in sorted(source_definition.params.values(), key=lambda p: p.name):
            if param.type == "reference" and resource_type in _targets(registry, param):
                values += [f"{source}:{param.name}", f"{source}:{param.name}:{resource_type}"]
    return tuple(values)


@cache
def iterate_values(registry: Registry) -> frozenset[str]:
    """With :iterate an include may start from any type reached so far: any type's values."""
    return frozenset(value for t in registry.types for value in include_values(registry, t))


@cache
def common_params(registry: Registry) -> tuple[SearchParam, ...]:
    """The parameters every type has (same name and type): what a system search (GET [base]?) takes."""
    definitions = list(registry.definitions.values())
    first = definitions[0].params
    return tuple(
        param
        for name, param in sorted(first.items())
        if all(d.params.get(name) is not None and d.params[name].type == param.type for d in definitions)
    )
