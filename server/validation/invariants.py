"""Invariants (R4 conformance-rules.html#constraints): each `constraint.expression` compiled once with
fhirpathpy and evaluated on its element; plus the FHIR functions fhirpathpy lacks (hasValue, htmlChecks)."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from functools import cache

from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from .shortcuts import Shortcut, shortcut

XHTML = "{http://www.w3.org/1999/xhtml}"
# R4 narrative.html#xhtml: no active content, no forms, no external style or document structure.
FORBIDDEN_ELEMENTS = frozenset(
    {
        "script",
        "style",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "object",
        "embed",
        "applet",
        "iframe",
        "frame",
        "frameset",
        "base",
        "link",
        "meta",
        "head",
        "body",
        "html",
        "title",
        "param",
        "noscript",
    }
)
# Corrections published after 4.0.1 for expressions FHIRPath engines reject: dom-3 uses as(), which the
# normative FHIRPath (N1 #functions as) makes an error on a collection of more than one item; R5 uses ofType().
ERRATA = {"dom-3": (".as(", ".ofType(")}
BEST_PRACTICE = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
NATIVE = frozenset({"ele-1"})  # checked natively on every element (rules.py), see element_has_content


def _has_value(inputs: list) -> list:
    """FHIR's hasValue(): a single primitive that has a value (fhirpath.html#functions)."""
    return [len(inputs) == 1 and isinstance(inputs[0], (str, int, float, bool))]


def html_checks_ok(div) -> bool:
    """htmlChecks() of R4 (narrative.html#xhtml): well-formed XHTML in a div, only allowed elements,
    no event attributes, some non-whitespace content (txt-2)."""
    if not isinstance(div, str) or "<!DOCTYPE" in div or "<!ENTITY" in div:
        return False
    try:
        root = ElementTree.fromstring(div)
    except ElementTree.ParseError:
        return False
    if root.tag != f"{XHTML}div":
        return False
    text_found = False
    for element in root.iter():
        name = element.tag.removeprefix(XHTML)
        if not element.tag.startswith(XHTML) or name in FORBIDDEN_ELEMENTS:
            return False
        if any(attribute.lower().startswith("on") for attribute in element.attrib):
            return False
        if (element.text or "").strip() or (element.tail or "").strip() or name == "img":
            text_found = True
    return text_found


def _html_checks(inputs: list) -> list:
    return [len(inputs) == 1 and html_checks_ok(inputs[0])]


OPTIONS = {
    "userInvocationTable": {
        "hasValue": {"fn": _has_value, "arity": {0: []}},
        "htmlChecks": {"fn": _html_checks, "arity": {0: []}},
    },
    "traceFn": lambda *args: None,
}


@cache
def _compiled(expression: str):
    return compile_fhirpath(expression, models["r4"], OPTIONS)


@dataclass(frozen=True)
class Invariant:
    key: str
    severity: str
    human: str
    expression: str
    source: str  # the StructureDefinition that states it
    shortcut: Shortcut | None = None  # an exact answer without FHIRPath in the plain cases (shortcuts.py)

    def holds(self, node, resource, type_path: str) -> bool:
        """False when the invariant fails on node (of the FHIR type or element path type_path, which
        resolves choice elements such as `value`); raises InvariantError when it cannot be evaluated."""
        if self.shortcut is not None:
            decided = self.shortcut(node)
            if decided is not None:
                return decided
        return self.evaluated(node, resource, type_path)

    def evaluated(self, node, resource, type_path: str) -> bool:
        """holds() by FHIRPath alone."""
        try:
            result = _compiled(self.expression)(
                ResourceNode.create_node(node, type_path), {"resource": resource, "rootResource": resource}
            )
        except Exception as error:  # fhirpathpy raises plain exceptions for what it cannot evaluate
            raise InvariantError(f"{type(error).__name__}: {error}") from None
        # Only a false result is a failure: an empty one (ref-1 on a Reference with only an identifier
        # propagates empty through startsWith/not/or) is no evidence against the rule.
        return result != [False] and result is not False


class InvariantError(Exception):
    pass


def invariant(constraint: dict, source: str) -> Invariant | None:
    """The invariant of a snapshot constraint, compiled now (None for those checked natively)."""
    key, expression = constraint["key"], constraint.get("expression")
    if not expression or key in NATIVE:
        return None
    if key in ERRATA:
        expression = expression.replace(*ERRATA[key])
    _compiled(expression)
    severity = constraint.get("severity", "error")
    if any(e.get("url") == BEST_PRACTICE and e.get("valueBoolean") for e in constraint.get("extension", [])):
        severity = "information"  # a best practice (dom-6): reported, never a warning or an error
    return Invariant(key, severity, constraint.get("human", key), expression, source, shortcut(key, expression))


def element_has_content(node) -> bool:
    """ele-1 (`hasValue() or (children().count() > id.count())`) for a JSON node: a primitive value, or an
    object with some child besides id. Natively, since it applies to every element of every resource."""
    if isinstance(node, dict):
        return any(key != "id" for key in node)
    return node is not None
