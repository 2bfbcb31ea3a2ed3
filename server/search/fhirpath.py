"""A small FHIRPath evaluator for the search-parameter expressions in resources/*.json.

Distinct forms found in the data (anything not understood raises ValueError at compile time):
  Patient.name.given                       path from the type root; lists flatten; a choice stem
                                           (MedicationStatement.effective) matches effectiveDateTime...
  Resource.id, Resource.meta.lastUpdated   "Resource"/"DomainResource" root: whatever the root is
  A | B                                    union (duplicates removed)
  (MedicationRequest.medication as CodeableConcept), Condition.onset.as(Age)   (also X.ofType(T))
                                           choice type: JSON property stem + capitalised type
  Condition.subject.where(resolve() is Patient)   literal references to that type only
  Patient.telecom.where(system='email')     equality filter
  Patient.deceased.exists() and Patient.deceased != false
Also: 'or', empty(), first(), number literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)|(?P<id>[A-Za-z_]\w*)|(?P<op>!=|[.()|=]))")
# Literal reference [base/]Type/id[/_history/vid]; urn:uuid:, contained "#x" etc. do not match.
_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_PRECEDENCE = {"or": 1, "and": 2, "=": 3, "!=": 3, "|": 4}
CHOICE_TYPES = frozenset(
    "Boolean Integer Decimal Base64Binary Instant String Uri Url Canonical Oid Uuid Id Date DateTime Time "
    "Code Markdown UnsignedInt PositiveInt Address Age Annotation Attachment CodeableConcept Coding "
    "ContactPoint Count Distance Duration HumanName Identifier Money Period Quantity Range Ratio Reference "
    "SampledData Signature Timing ContactDetail Contributor DataRequirement Expression ParameterDefinition "
    "RelatedArtifact TriggerDefinition UsageContext Dosage Meta".split()
)


def _truth(c: list):  # singleton evaluation: empty -> None, one boolean -> it, otherwise true
    return None if not c else (c[0] if len(c) == 1 and isinstance(c[0], bool) else True)


def _eq(a, b) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _equals(a: list, b: list) -> list:
    return [len(a) == len(b) and all(map(_eq, a, b))] if a and b else []


def _logic(a, b, dominant: bool) -> list:  # three-valued: False dominates 'and', True dominates 'or'
    return [dominant] if dominant in (a, b) else [] if None in (a, b) else [not dominant]


def _union(a: list, b: list) -> list:
    out: list = []
    for v in a + b:
        if not any(_eq(v, o) for o in out):
            out.append(v)
    return out


_OPERATORS = {
    "|": _union,
    "=": _equals,
    "!=": lambda a, b: [not v for v in _equals(a, b)],
    "and": lambda a, b: _logic(_truth(a), _truth(b), False),
    "or": lambda a, b: _logic(_truth(a), _truth(b), True),
}
_FUNCTIONS = {"exists": lambda c: [bool(c)], "empty": lambda c: [not c], "first": lambda c: c[:1]}


def _member(name: str) -> Callable[[list], list]:
    def step(focus: list) -> list:
        out: list = []
        for item in focus:
            if isinstance(item, dict):
                value = item.get(name)
                if value is None and name not in item:  # choice element: onset -> onsetAge, ...
                    value = next(
                        (v for k, v in item.items() if k.startswith(name) and k[len(name) :] in CHOICE_TYPES), None
                    )
                if isinstance(value, list):
                    out.extend(v for v in value if v is not None)
                elif value is not None:
                    out.append(value)
        return out

    return step


def _reference_type(item) -> str | None:
    ref = item.get("reference") if isinstance(item, dict) else None
    match = _REFERENCE.search(ref) if isinstance(ref, str) else None
    return match and match.group(1)


class _Parser:
    """Recursive descent into ("path", [step, ...]) | (operator, left, right) | ("resolve_is", T)."""

    def __init__(self, expr: str):
        self.expr, self.tokens, self.i, pos = expr, [], 0, 0
        while pos < len(expr.rstrip()):
            m = _TOKEN.match(expr, pos)
            if not m:
                raise ValueError(f"unexpected character at {pos} in {expr!r}")
            kind = m.lastgroup
            assert kind is not None  # every alternative of _TOKEN is a named group
            text = m.group(kind)
            self.tokens.append((kind, re.sub(r"\\(.)", r"\1", text[1:-1]) if kind == "str" else text))
            pos = m.end()

    def fail(self, what: str):
        raise ValueError(f"{what} at token {self.i} in {self.expr!r}")

    def peek(self, *texts, offset=0) -> bool:
        kind, text = self.tokens[self.i + offset] if self.i + offset < len(self.tokens) else (None, None)
        return kind in ("op", "id") and text in texts

    def take(self, *texts) -> tuple:
        if self.i >= len(self.tokens) or (texts and not self.peek(*texts)):
            self.fail(f"expected {' or '.join(texts) or 'more'}")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self):
        node = self.binary(1)
        if self.i != len(self.tokens):
            self.fail(f"unexpected {self.tokens[self.i][1]!r}")
        return node

    def binary(self, min_precedence: int):  # precedence climbing over _PRECEDENCE
        node = self.typed()
        while self.peek(*_PRECEDENCE) and _PRECEDENCE[self.tokens[self.i][1]] >= min_precedence:
            op = self.take()[1]
            node = (op, node, self.binary(_PRECEDENCE[op] + 1))
        return node

    def typed(self):
        node = self.term()
        if self.peek("as"):
            self.take()
            return self.as_type(node)
        if self.peek("is"):
            self.take()
            if node != ("path", [("call", "resolve")]):
                self.fail("'is' is only supported as 'resolve() is T'")
            return ("resolve_is", self.take()[1])
        return node

    def as_type(self, node):
        """JSON has no type info: `onset as Age` reads the choice property `onsetAge`."""
        while node[0] == "path" and len(node[1]) == 1 and node[1][0][0] == "expr":
            node = node[1][0][1]  # (X) as T
        type_name = self.take()[1]
        if node[0] != "path" or node[1][-1][0] != "member":
            self.fail(f"'as {type_name}' must follow a choice element")
        node[1][-1] = ("member", node[1][-1][1] + type_name[0].upper() + type_name[1:])
        return node

    def term(self):
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            node = ("path", [("expr", self.binary(1))])
            self.take(")")
        elif kind in ("str", "num") or text in ("true", "false"):
            value = (
                text if kind == "str" else text == "true" if kind == "id" else float(text) if "." in text else int(text)
            )
            return ("path", [("lit", value)])
        elif kind == "id" and text not in _PRECEDENCE and text not in ("as", "is"):
            if text[0].isupper() and not self.peek("("):
                node = ("path", [("type", text)])  # the type root: Patient, Resource
            else:
                self.i -= 1
                node = ("path", [self.invocation()])
        else:
            self.fail(f"unexpected {text!r}")
        while self.peek("."):
            self.take()
            if self.peek("as", "ofType") and self.peek("(", offset=1):
                self.i += 2
                node = self.as_type(node)
                self.take(")")
            else:
                node[1].append(self.invocation())
        return node

    def invocation(self) -> tuple:
        kind, name = self.take()
        if kind != "id":
            self.fail(f"expected a name, got {name!r}")
        if not self.peek("("):
            return ("member", name)
        self.take("(")
        step = ("where", self.binary(1)) if name == "where" else ("call", name)
        if name not in _FUNCTIONS and name not in ("where", "resolve"):
            self.fail(f"unsupported function {name}()")
        self.take(")")
        return step


def _build(node) -> Callable[[list], list]:
    kind, arg = node[0], node[1]
    if kind in _OPERATORS:
        op, left, right = _OPERATORS[kind], _build(arg), _build(node[2])
        return lambda f: op(left(f), right(f))
    if kind == "resolve_is":
        return lambda f: [_reference_type(x) == arg for x in f]
    if kind == "type":  # the root: Patient (when it is one), Resource / DomainResource (anything)
        return lambda f: [
            r
            for r in f
            if isinstance(r, dict) and (arg in ("Resource", "DomainResource") or r.get("resourceType", arg) == arg)
        ]
    if kind == "member":
        return _member(arg)
    if kind == "where":
        crit = _build(arg)
        return lambda f: [x for x in f if _truth(crit([x])) is True]
    if kind == "lit":
        return lambda f: [arg]
    if kind == "expr":
        return _build(arg)
    if kind == "call" and arg in _FUNCTIONS:
        return _FUNCTIONS[arg]
    if kind == "call":
        raise ValueError("resolve() is only supported as 'resolve() is T'")
    steps = [_build(step) for step in arg]  # "path"

    def run(focus: list) -> list:
        for step in steps:
            focus = step(focus)
        return focus

    return steps[0] if len(steps) == 1 else run


@lru_cache(maxsize=1024)
def compile_expression(expr: str) -> Callable[[dict], list]:
    """Compile ``expr``; the result maps a resource (parsed JSON) to the flat list it selects."""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("empty FHIRPath expression")
    run = _build(_Parser(expr).parse())
    return lambda resource: run([resource])


_FILTERING_STEPS = frozenset({"member", "where", "first"})


@lru_cache(maxsize=1024)
def root_elements(expr: str, type_name: str) -> frozenset[str] | None:
    """The elements of a `type_name` resource without which `expr` selects nothing, when it is a
    union of paths from the type root that only navigate and filter (`Patient.name.given |
    Patient.address`); None when it may select something regardless (exists(), literals, Resource.id)."""
    return _roots(_Parser(expr).parse(), type_name)


def _roots(node, type_name: str) -> frozenset[str] | None:
    if node[0] == "|":
        left, right = _roots(node[1], type_name), _roots(node[2], type_name)
        return None if left is None or right is None else left | right
    if node[0] != "path":
        return None
    first, rest = node[1][0], node[1][1:]
    if first[0] == "expr":
        roots = _roots(first[1], type_name)
    elif first[0] == "type" and first[1] not in ("Resource", "DomainResource"):
        if first[1] != type_name:
            return frozenset()  # another type's branch selects nothing here
        if not rest or rest[0][0] != "member":
            return None
        roots, rest = frozenset({rest[0][1]}), rest[1:]
    else:
        return None
    return roots if all(step[0] in _FILTERING_STEPS or step == ("call", "first") for step in rest) else None
