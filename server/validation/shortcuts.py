"""Exact answers, without FHIRPath, for the R4 base invariants that every write meets (dom-2..dom-6 on
every resource, ref-1 on every Reference, ...), in the common cases where the answer is plain from the
JSON: no contained resources, an element absent, a reference that is not to a contained one. A shortcut
returns True or False when it is certain and None otherwise, and then fhirpathpy evaluates the
expression as before. Each applies only to its exact R4 expression text (a profile restating a key with
another expression gets FHIRPath); tests/validation/test_invariant_shortcuts.py holds every decided
answer equal to fhirpathpy's.

Evaluating these by FHIRPath was most of a create's validation cost (bench/validation.py)."""

from __future__ import annotations

from collections.abc import Callable

Shortcut = Callable[[object], bool | None]


def _plain(check: Callable[[dict], bool | None]) -> Shortcut:
    """Only an object without primitive extensions (`_name` keys) is plain enough to decide here."""

    def shortcut(node) -> bool | None:
        if not isinstance(node, dict) or any(key[:1] == "_" for key in node):
            return None
        return check(node)

    return shortcut


@_plain
def _no_contained(node: dict) -> bool | None:
    """dom-2..dom-5 say something only about contained resources: without any, they hold."""
    return True if "contained" not in node else None


@_plain
def _has_narrative(node: dict) -> bool | None:  # dom-6: text.`div`.exists()
    text = node.get("text")
    if text is None:
        return False if "text" not in node else None
    if isinstance(text, dict) and isinstance(text.get("div"), str) and text["div"]:
        return True
    return None


def _absent_or_paired(value: str, required: str) -> Shortcut:
    """`<value>.empty() or <required>.exists()` (cpt-2, qty-3, att-1)."""

    @_plain
    def check(node: dict) -> bool | None:
        if value not in node:
            return True
        if not isinstance(node[value], (str, int, float, bool)) or node[value] == "":
            return None
        if required not in node:
            return False
        return True if isinstance(node[required], str) and node[required] else None

    return check


@_plain
def _not_a_contained_reference(node: dict) -> bool | None:  # ref-1
    reference = node.get("reference")
    if "reference" not in node or isinstance(reference, str) and reference and not reference.startswith("#"):
        return True
    return None


def _any_of(*names: str) -> Shortcut:
    """`a.exists() or b.exists() or ...` over complex elements (pat-1)."""

    @_plain
    def check(node: dict) -> bool | None:
        if any(isinstance(node.get(name), (dict, list)) and node[name] for name in names):
            return True
        return False if not any(name in node for name in names) else None

    return check


@_plain
def _extension_or_value(node: dict) -> bool | None:  # ext-1: extension.exists() != value.exists()
    if "value" in node:
        return None
    values = [key for key in node if key.startswith("value") and key[5:6].isupper()]
    extensions = node.get("extension")
    if len(values) > 1 or any(node[key] in (None, "", [], {}) for key in values) or extensions in ([], {}):
        return None
    return (extensions is not None) != bool(values)


@_plain
def _start_or_end_missing(node: dict) -> bool | None:  # per-1: without both start and end it holds
    return True if "start" not in node or "end" not in node else None


@_plain
def _no_comparator(node: dict) -> bool | None:  # sqty-1: comparator.empty()
    return True if "comparator" not in node else None


# (key, the R4 expression as this server evaluates it, ERRATA applied) -> shortcut
SHORTCUTS: dict[tuple[str, str], Shortcut] = {
    ("dom-2", "contained.contained.empty()"): _no_contained,
    (
        "dom-3",
        "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().ofType(canonical)"
        " | %resource.descendants().ofType(uri) | %resource.descendants().ofType(url))) or descendants().where("
        "reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where("
        "as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    ): _no_contained,
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"): _no_contained,
    ("dom-5", "contained.meta.security.empty()"): _no_contained,
    ("dom-6", "text.`div`.exists()"): _has_narrative,
    (
        "ref-1",
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in"
        " %rootResource.contained.id.trace('ids'))",
    ): _not_a_contained_reference,
    ("cpt-2", "value.empty() or system.exists()"): _absent_or_paired("value", "system"),
    ("qty-3", "code.empty() or system.exists()"): _absent_or_paired("code", "system"),
    ("att-1", "data.empty() or contentType.exists()"): _absent_or_paired("data", "contentType"),
    ("pat-1", "name.exists() or telecom.exists() or address.exists() or organization.exists()"): _any_of(
        "name", "telecom", "address", "organization"
    ),
    ("ext-1", "extension.exists() != value.exists()"): _extension_or_value,
    ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): _start_or_end_missing,
    ("sqty-1", "comparator.empty()"): _no_comparator,
}


def shortcut(key: str, expression: str) -> Shortcut | None:
    return SHORTCUTS.get((key, expression))
