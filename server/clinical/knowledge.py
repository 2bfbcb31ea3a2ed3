"""Medication knowledge from resources/clinical/: ingredients, classes and rules, checked when loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SEVERITIES = ("contraindicated", "major", "moderate", "monitoring")
RXCUI = re.compile(r"[1-9][0-9]{0,8}")
ICD10CM = re.compile(r"[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?")
SNOMED = re.compile(r"[1-9][0-9]{5,17}")


class KnowledgeError(ValueError):
    """The knowledge files are inconsistent; the server refuses to start with them."""


@dataclass(frozen=True)
class Ingredient:
    rxcui: str
    name: str
    atc: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClinicalDrug:
    rxcui: str
    tty: str
    name: str
    ingredients: tuple[str, ...]
    strength_mg: float | None = None


@dataclass(frozen=True)
class Source:
    label: str
    url: str


@dataclass(frozen=True)
class Rule:
    """One rule of any family; `a`/`b` are ingredient sets (an interaction), `drugs` the drug set otherwise."""

    id: str
    family: str  # interaction | duplicate | contraindication | age | dose
    severity: str
    mechanism: str
    effect: str
    management: str
    source: Source
    a: frozenset[str] = frozenset()
    b: frozenset[str] = frozenset()
    drug_class: str | None = None
    icd10cm: tuple[str, ...] = ()
    snomed: frozenset[str] = frozenset()
    condition_display: str = ""
    below_age: int | None = None
    max_mg_per_day: float | None = None
    reduced_above_age: int | None = None
    reduced_with: frozenset[str] = frozenset()
    reduced_max_mg_per_day: float | None = None


@dataclass(frozen=True)
class FollowUp:
    """How soon after a psychiatric medication is started or changed a visit is due."""

    rule: Rule
    days: int
    drugs: frozenset[str]
    appointment_status: tuple[str, ...]


@dataclass
class Knowledge:
    ingredients: dict[str, Ingredient] = field(default_factory=dict)
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # any known RxCUI -> its ingredient RxCUIs
    drugs: dict[str, ClinicalDrug] = field(default_factory=dict)  # SCD/SBD RxCUI -> drug
    classes: dict[str, frozenset[str]] = field(default_factory=dict)
    class_names: dict[str, str] = field(default_factory=dict)
    duplicate_classes: tuple[str, ...] = ()
    rules: dict[str, Rule] = field(default_factory=dict)
    follow_up: FollowUp | None = None

    def ingredients_of(self, rxcui: str) -> tuple[str, ...]:
        """The ingredient RxCUIs an IN, PIN, SCD or SBD code stands for; () when unknown."""
        return self.codes.get(rxcui, ())

    def name(self, rxcui: str) -> str:
        ingredient = self.ingredients.get(rxcui)
        return ingredient.name if ingredient else rxcui

    def classes_of(self, rxcui: str) -> list[str]:
        return [c for c, members in self.classes.items() if rxcui in members]

    def family(self, family: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.family == family]


def load(directory: Path) -> Knowledge:
    """Read drugs.json, classes.json and rules.json and check them against each other."""
    read = lambda name: orjson.loads((directory / name).read_bytes())  # noqa: E731
    knowledge = Knowledge()
    _load_drugs(knowledge, read("drugs.json"))
    _load_classes(knowledge, read("classes.json"))
    _load_rules(knowledge, read("rules.json"))
    return knowledge


def _code(value: str, pattern: re.Pattern, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise KnowledgeError(f"malformed {what} code {value!r}")
    return value


def _add_code(knowledge: Knowledge, rxcui: str, ingredients: tuple[str, ...]) -> None:
    if rxcui in knowledge.codes and knowledge.codes[rxcui] != ingredients:
        raise KnowledgeError(f"RxCUI {rxcui} maps to two different ingredient sets")
    knowledge.codes[rxcui] = ingredients


def _load_drugs(knowledge: Knowledge, doc: dict) -> None:
    for item in doc["ingredients"]:
        rxcui = _code(item["rxcui"], RXCUI, "RxNorm")
        knowledge.ingredients[rxcui] = Ingredient(rxcui, item["name"], tuple(item.get("atc", ())))
        _add_code(knowledge, rxcui, (rxcui,))
        for precise in item.get("precise", ()):
            _add_code(knowledge, _code(precise["rxcui"], RXCUI, "RxNorm"), (rxcui,))
        for drug in item.get("clinical_drugs", ()):
            _add_drug(knowledge, drug, (rxcui,))
    for drug in doc.get("combinations", ()):
        ingredients = tuple(drug["ingredients"])
        for rxcui in ingredients:
            if rxcui not in knowledge.ingredients:
                raise KnowledgeError(f"combination {drug['rxcui']} names unknown ingredient {rxcui}")
        _add_drug(knowledge, drug, ingredients)


def _add_drug(knowledge: Knowledge, drug: dict, ingredients: tuple[str, ...]) -> None:
    rxcui = _code(drug["rxcui"], RXCUI, "RxNorm")
    if drug["tty"] not in ("SCD", "SBD"):
        raise KnowledgeError(f"clinical drug {rxcui} has term type {drug['tty']!r}, not SCD or SBD")
    if rxcui in knowledge.ingredients:
        raise KnowledgeError(f"RxCUI {rxcui} is both an ingredient and a clinical drug")
    knowledge.drugs[rxcui] = ClinicalDrug(rxcui, drug["tty"], drug["name"], ingredients, drug.get("strength_mg"))
    _add_code(knowledge, rxcui, ingredients)


def _load_classes(knowledge: Knowledge, doc: dict) -> None:
    duplicates = []
    for item in doc["classes"]:
        members = set()
        for member in item["members"]:
            ingredient = knowledge.ingredients.get(member["rxcui"])
            if ingredient is None or ingredient.name != member["name"]:
                raise KnowledgeError(f"class {item['id']}: member {member} is not a known ingredient")
            members.add(member["rxcui"])
        knowledge.classes[item["id"]] = frozenset(members)
        knowledge.class_names[item["id"]] = item["display"]
        if item.get("duplicate"):
            duplicates.append(item["id"])
    knowledge.duplicate_classes = tuple(duplicates)


def _selector(knowledge: Knowledge, selector: dict, where: str) -> frozenset[str]:
    """A rule's drug side: named ingredients and whole classes, as one ingredient set."""
    found: set[str] = set()
    for drug in selector.get("drugs", ()):
        ingredient = knowledge.ingredients.get(drug["rxcui"])
        if ingredient is None or ingredient.name != drug["name"]:
            raise KnowledgeError(f"{where}: {drug} is not a known ingredient")
        found.add(drug["rxcui"])
    for name in selector.get("classes", ()):
        if name not in knowledge.classes:
            raise KnowledgeError(f"{where}: unknown class {name!r}")
        found |= knowledge.classes[name]
    if not found:
        raise KnowledgeError(f"{where}: selects no drug")
    return frozenset(found)


def _common(item: dict, family: str) -> dict:
    where = f"rule {item.get('id')!r}"
    for key in ("id", "severity", "mechanism", "effect", "management", "source"):
        if not item.get(key):
            raise KnowledgeError(f"{where}: no {key}")
    source = item["source"]
    if not source.get("label") or not str(source.get("url", "")).startswith(("https://", "http://")):
        raise KnowledgeError(f"{where}: the source needs a label and a URL")
    if item["severity"] not in SEVERITIES:
        raise KnowledgeError(f"{where}: unknown severity {item['severity']!r}")
    return {
        "id": item["id"],
        "family": family,
        "severity": item["severity"],
        "mechanism": item["mechanism"],
        "effect": item["effect"],
        "management": item["management"],
        "source": Source(source["label"], source["url"]),
    }


def _load_rules(knowledge: Knowledge, doc: dict) -> None:
    rules: list[Rule] = []
    for item in doc["interactions"]:
        where = f"rule {item['id']}"
        rules.append(
            Rule(
                **_common(item, "interaction"),
                a=_selector(knowledge, item["a"], where),
                b=_selector(knowledge, item["b"], where),
            )
        )
    for item in doc["duplicates"]:
        if item["class"] not in knowledge.duplicate_classes:
            raise KnowledgeError(f"rule {item['id']}: {item['class']!r} is not a duplicate-therapy class")
        rules.append(Rule(**_common(item, "duplicate"), drug_class=item["class"]))
    for item in doc["contraindications"]:
        conditions = item["conditions"]
        icd = tuple(_code(c, ICD10CM, "ICD-10-CM") for c in conditions.get("icd10cm", ()))
        snomed = frozenset(_snomed(c) for c in conditions.get("snomed", ()))
        rules.append(
            Rule(
                **_common(item, "contraindication"),
                a=_selector(knowledge, item["drugs"], item["id"]),
                icd10cm=icd,
                snomed=snomed,
                condition_display=item["condition_display"],
            )
        )
    for item in doc["age_warnings"]:
        rules.append(
            Rule(
                **_common(item, "age"),
                a=_selector(knowledge, item["drugs"], item["id"]),
                below_age=int(item["below_age"]),
            )
        )
    for item in doc["dose_limits"]:
        reduced = item.get("reduced", {})
        rules.append(
            Rule(
                **_common(item, "dose"),
                a=_selector(knowledge, item["drugs"], item["id"]),
                max_mg_per_day=float(item["max_mg_per_day"]),
                reduced_above_age=reduced.get("above_age"),
                reduced_with=_selector(knowledge, reduced["with"], item["id"]) if "with" in reduced else frozenset(),
                reduced_max_mg_per_day=reduced.get("max_mg_per_day"),
            )
        )
    if "follow_up" in doc:
        item = doc["follow_up"]
        rule = Rule(**_common(item, "follow-up"))
        knowledge.follow_up = FollowUp(
            rule,
            int(item["days"]),
            _selector(knowledge, {"classes": item["classes"]}, item["id"]),
            tuple(item["appointment_status"]),
        )
        rules.append(rule)
    for rule in rules:
        if rule.id in knowledge.rules:
            raise KnowledgeError(f"rule id {rule.id!r} is used twice")
        knowledge.rules[rule.id] = rule


def _snomed(code: str) -> str:
    _code(code, SNOMED, "SNOMED CT")
    if not verhoeff_valid(code) or code[-3:-1] not in ("00", "10"):
        raise KnowledgeError(f"SNOMED CT code {code} fails its check digit or is not a concept id")
    return code


_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]]


def verhoeff_valid(number: str) -> bool:
    """SNOMED CT identifiers end in a Verhoeff check digit (SNOMED CT TIG, 'Check-digit')."""
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = _D[check][_permute(i, int(digit))]
    return check == 0


def _permute(i: int, digit: int) -> int:
    for _ in range(i % 8):
        digit = _P[1][digit]
    return digit
