"""The rule engine: pure functions from medications, diagnoses and age to alerts (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from .knowledge import Knowledge, Rule
from .medications import Medication

SUMMARY_LIMIT = 139
SEVERITY_WORDS = {
    "contraindicated": "contraindicated combination",
    "major": "major interaction",
    "moderate": "moderate interaction",
    "monitoring": "monitor",
}  # CDS Hooks: summary "<140 characters"


@dataclass(frozen=True)
class Condition:
    system: str
    code: str


@dataclass(frozen=True)
class Alert:
    rule: Rule
    subject: Medication  # the (draft) medication the alert is about
    other: Medication | None  # the interacting or duplicated medication, if any
    names: tuple[str, str | None]
    summary: str

    @property
    def key(self) -> tuple:
        return (self.rule.id, self.subject.reference, self.other.reference if self.other else None)


ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


def check(
    knowledge: Knowledge,
    drafts: list[Medication],
    current: list[Medication],
    conditions: list[Condition],
    age: int | None,
    signing: bool = False,
) -> list[Alert]:
    """Alerts for the drafts against the current medications and each other, most severe first.

    With drafts only (current empty), every pair among them is checked: a medication review."""
    alerts: dict[tuple, Alert] = {}
    pairs = [(d, c) for d in drafts for c in current if c.reference != d.reference]
    pairs += list(combinations(drafts, 2))
    for subject, other in pairs:
        for alert in _pair(knowledge, subject, other):
            alerts.setdefault(_pair_key(alert), alert)
    everything = drafts + current
    for subject in drafts:
        for alert in _alone(knowledge, subject, everything, conditions, age, signing):
            alerts.setdefault(alert.key, alert)
    order = {"contraindicated": 0, "major": 1, "moderate": 2, "monitoring": 3}
    return sorted(alerts.values(), key=lambda a: (order[a.rule.severity], a.rule.id, a.summary))


def _pair_key(alert: Alert) -> tuple:
    assert alert.other is not None  # a pair's alert always has the other medication
    return (alert.rule.id, frozenset((alert.subject.reference, alert.other.reference)))


def _pair(knowledge: Knowledge, m1: Medication, m2: Medication) -> list[Alert]:
    found = []
    for rule in knowledge.family("interaction"):
        for x, y in ((m1, m2), (m2, m1)):
            hit_a = [i for i in x.ingredients if i in rule.a]
            hit_b = [i for i in y.ingredients if i in rule.b]
            if hit_a and hit_b and set(hit_a) != set(hit_b):
                names = (knowledge.name(hit_a[0]), knowledge.name(hit_b[0]))
                if x is m2:
                    names = names[::-1]
                found.append(
                    _alert(rule, m1, m2, names, f"{names[0]} with {names[1]}: {SEVERITY_WORDS[rule.severity]}")
                )
                break
    for rule in knowledge.family("duplicate"):
        assert rule.drug_class is not None  # every duplicate rule names its drug class
        members = knowledge.classes[rule.drug_class]
        hit1 = [i for i in m1.ingredients if i in members]
        hit2 = [i for i in m2.ingredients if i in members]
        if hit1 and hit2:
            names = (knowledge.name(hit1[0]), knowledge.name(hit2[0]))
            what = knowledge.class_names[rule.drug_class].split(" (")[0]
            found.append(_alert(rule, m1, m2, names, f"duplicate therapy: {names[0]} and {names[1]} ({what})"))
    return found


def _alone(
    knowledge: Knowledge,
    subject: Medication,
    everything: list[Medication],
    conditions: list[Condition],
    age: int | None,
    signing: bool,
) -> list[Alert]:
    found = []
    hit = lambda rule: next((i for i in subject.ingredients if i in rule.a), None)  # noqa: E731
    for rule in knowledge.family("contraindication"):
        drug = hit(rule)
        if drug and any(_condition_matches(rule, c) for c in conditions):
            name = knowledge.name(drug)
            found.append(
                _alert(
                    rule,
                    subject,
                    None,
                    (name, rule.condition_display),
                    f"{name} with {rule.condition_display}: {SEVERITY_WORDS[rule.severity].split()[0]}",
                )
            )
    for rule in knowledge.family("age"):
        drug = hit(rule)
        assert rule.below_age is not None  # every age rule has its threshold
        if drug and age is not None and age < rule.below_age:
            name = knowledge.name(drug)
            found.append(
                _alert(
                    rule,
                    subject,
                    None,
                    (name, None),
                    f"{name} at age {age}: boxed warning on suicidality under {rule.below_age}; monitor closely",
                )
            )
    if signing:
        for rule in knowledge.family("dose"):
            drug = hit(rule)
            if drug and subject.mg_per_day is not None:
                limit = _dose_limit(rule, subject, everything, age)
                if subject.mg_per_day > limit:
                    name = knowledge.name(drug)
                    found.append(
                        _alert(
                            rule,
                            subject,
                            None,
                            (name, None),
                            f"{name} {subject.mg_per_day:g} mg/day exceeds the {limit:g} mg/day maximum",
                        )
                    )
    return found


def _dose_limit(rule: Rule, subject: Medication, everything: list[Medication], age: int | None) -> float:
    reduced = rule.reduced_max_mg_per_day
    if reduced is not None:
        if age is not None and rule.reduced_above_age is not None and age > rule.reduced_above_age:
            return reduced
        if any(i in rule.reduced_with for m in everything if m is not subject for i in m.ingredients):
            return reduced
    assert rule.max_mg_per_day is not None  # every dose rule has its maximum
    return rule.max_mg_per_day


def _condition_matches(rule: Rule, condition: Condition) -> bool:
    if condition.system == SNOMED:
        return condition.code in rule.snomed
    if condition.system == ICD10CM:
        code = condition.code.replace(".", "").upper()
        return any(code.startswith(prefix.replace(".", "")) for prefix in rule.icd10cm)
    return False


def _alert(rule: Rule, subject: Medication, other: Medication | None, names: tuple, summary: str) -> Alert:
    summary = summary[0].upper() + summary[1:]
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1] + "…"
    return Alert(rule, subject, other, names, summary)
