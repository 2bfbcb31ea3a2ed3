"""Patient/{id}/$medication-review: diagnoses, the reconciled medication list, alerts, adherence and follow-up,
as a Parameters resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ..interactions.context import RequestContext
from . import engine
from .adherence import pdc
from .current import current_medications, diagnoses
from .fills import fills_by_drug
from .knowledge import RXNORM, Knowledge
from .medications import Medication, _day, medication
from .records import PatientRecord, full_record

KINDS = ("medicationRequests", "medicationStatements", "medicationDispenses")
VISIT_DONE = {"arrived", "checked-in", "fulfilled"}


@dataclass
class Entry:
    """One line of the reconciled list: an ingredient set (or an uncoded medication) and where it was seen."""

    key: tuple
    display: str
    ingredients: tuple[str, ...]
    current: bool = False
    current_source: Medication | None = None
    sources: list[Medication] = field(default_factory=list)

    @property
    def last_date(self) -> date | None:
        dates = [d for m in self.sources for d in (m.start, m.end) if d]
        return max(dates) if dates else None


def medication_review(
    ctx: RequestContext,
    knowledge: Knowledge,
    patient_id: str,
    period_start: date | None = None,
    period_end: date | None = None,
    today: date | None = None,
) -> dict:
    """The review of one patient; every read goes through the interactions (patient/ and user/ scopes apply)."""
    today = today or datetime.now(UTC).date()
    period_end = period_end or today
    period_start = period_start or period_end - timedelta(days=364)
    record = full_record(ctx, patient_id)
    entries = reconcile(knowledge, record, today)
    current = [e.current_source for e in entries if e.current_source is not None]
    alerts = engine.check(knowledge, [m for m in current if m.checked], [], diagnoses(record), record.age(today))
    parameters = [{"name": "patient", "valueReference": {"reference": f"Patient/{patient_id}"}}]
    parameters += [{"name": "diagnosis", "resource": c} for c in record.active_conditions()]
    parameters += [_medication(knowledge, e) for e in entries]
    parameters += [_alert(a) for a in alerts]
    parameters += _adherence(knowledge, record, period_start, period_end)
    parameters += _follow_up(knowledge, record, today)
    return {"resourceType": "Parameters", "parameter": parameters}


def reconcile(knowledge: Knowledge, record: PatientRecord, today: date) -> list[Entry]:
    """One entry per ingredient set across requests, statements and dispenses; current ones first."""
    current_refs = {m.reference for m in current_medications(knowledge, record, today)}
    entries: dict[tuple, Entry] = {}
    for kind in KINDS:
        for resource in record.resources[kind]:
            if resource.get("status") == "entered-in-error":
                continue
            fact = medication(knowledge, resource)
            key = tuple(sorted(fact.ingredients)) or ("uncoded", fact.display.lower())
            entry = entries.get(key)
            if entry is None:
                display = " / ".join(knowledge.name(i) for i in key) if fact.ingredients else fact.display
                entry = entries[key] = Entry(key, display, fact.ingredients)
            entry.sources.append(fact)
            if fact.reference in current_refs:
                entry.current = True
                entry.current_source = entry.current_source or fact
    for entry in entries.values():
        entry.sources.sort(key=lambda m: m.start or date.min, reverse=True)
    return sorted(entries.values(), key=lambda e: (not e.current, e.display))


def _medication(knowledge: Knowledge, entry: Entry) -> dict:
    part: list[dict] = [
        {"name": "status", "valueCode": "current" if entry.current else "stopped"},
        {"name": "display", "valueString": entry.display},
    ]
    part += [
        {"name": "ingredient", "valueCoding": {"system": RXNORM, "code": i, "display": knowledge.name(i)}}
        for i in entry.ingredients
    ]
    part += [{"name": "class", "valueString": c} for i in entry.ingredients for c in knowledge.classes_of(i)]
    if not entry.ingredients:
        part.append({"name": "checked", "valueBoolean": False})
    part += [{"name": "source", "valueReference": {"reference": m.reference}} for m in entry.sources]
    if entry.last_date:
        part.append({"name": "lastDate", "valueDate": entry.last_date.isoformat()})
    return {"name": "medication", "part": part}


def _alert(alert: engine.Alert) -> dict:
    rule = alert.rule
    part: list[dict] = [
        {"name": "rule", "valueCode": rule.id},
        {"name": "severity", "valueCode": rule.severity},
        {"name": "summary", "valueString": alert.summary},
        {"name": "management", "valueString": rule.management},
        {"name": "source", "valueUri": rule.source.url},
    ]
    part += [
        {"name": "medication", "valueReference": {"reference": m.reference}}
        for m in (alert.subject, alert.other)
        if m is not None
    ]
    return {"name": "alert", "part": part}


def _adherence(knowledge: Knowledge, record: PatientRecord, start: date, end: date) -> list[dict]:
    by_drug = fills_by_drug(knowledge, record, end)
    out = []
    for drug, fills in sorted(by_drug.items(), key=lambda item: knowledge.name(item[0])):
        out.append(
            _pdc_parameter(
                "drug", {"system": RXNORM, "code": drug, "display": knowledge.name(drug)}, pdc(fills, start, end), start
            )
        )
    for cls in knowledge.duplicate_classes:
        fills = [f for drug, drug_fills in by_drug.items() if drug in knowledge.classes[cls] for f in drug_fills]
        if fills:
            out.append(
                _pdc_parameter(
                    "class", {"code": cls, "display": knowledge.class_names[cls]}, pdc(fills, start, end), start
                )
            )
    return out


def _pdc_parameter(level: str, coding: dict, result, start: date) -> dict:
    part = [
        {"name": "level", "valueCode": level},
        {"name": level, "valueCoding": coding},
        {"name": "periodStart", "valueDate": start.isoformat()},
        {"name": "periodEnd", "valueDate": result.period_end.isoformat()},
        {"name": "fills", "valueInteger": result.fills},
    ]
    if result.index_date:
        part += [
            {"name": "indexDate", "valueDate": result.index_date.isoformat()},
            {"name": "daysInPeriod", "valueInteger": result.days_in_period},
            {"name": "daysCovered", "valueInteger": result.days_covered},
            {"name": "pdc", "valueDecimal": result.value},
            {"name": "source", "valueString": result.source},
        ]
    part.append({"name": "eligible", "valueBoolean": result.eligible})
    if result.adherent is not None:
        part.append({"name": "adherent", "valueBoolean": result.adherent})
    return {"name": "adherence", "part": part}


def latest_change(knowledge: Knowledge, record: PatientRecord) -> tuple[date, str] | None:
    """The latest start or change of a psychiatric medication: a request's authoredOn, a statement's start."""
    follow_up = knowledge.follow_up
    assert follow_up is not None  # the knowledge base defines the follow-up rule
    changes = []
    for kind in ("medicationRequests", "medicationStatements"):
        for resource in record.resources[kind]:
            if resource.get("status") in ("entered-in-error", "cancelled", "draft"):
                continue
            fact = medication(knowledge, resource)
            if fact.start and any(i in follow_up.drugs for i in fact.ingredients):
                changes.append((fact.start, fact.reference))
    return max(changes) if changes else None


def _follow_up(knowledge: Knowledge, record: PatientRecord, today: date) -> list[dict]:
    follow_up = knowledge.follow_up
    visits = [(start, a) for a in record.resources["appointments"] if (start := _day(a.get("start")))]
    past = [(d, a) for d, a in visits if d <= today and a.get("status") in VISIT_DONE | {"booked"}]
    future = [(d, a) for d, a in visits if d >= today and a.get("status") in ("booked", "pending", "proposed")]
    out = []
    if past:
        d, a = max(past, key=lambda v: v[0])
        out.append(_visit("lastAppointment", d, a))
    if future:
        d, a = min(future, key=lambda v: v[0])
        out.append(_visit("nextAppointment", d, a))
    change = latest_change(knowledge, record)
    if change is not None:
        started, reference = change
        assert follow_up is not None  # the knowledge base defines the follow-up rule
        due = started + timedelta(days=follow_up.days)
        kept = [a for d, a in visits if started <= d <= due and a.get("status") in follow_up.appointment_status]
        out.append(
            {
                "name": "followUp",
                "part": [
                    {"name": "change", "valueReference": {"reference": reference}},
                    {"name": "changeDate", "valueDate": started.isoformat()},
                    {"name": "dueBy", "valueDate": due.isoformat()},
                    {"name": "booked", "valueBoolean": bool(kept)},
                    {"name": "overdue", "valueBoolean": not kept and today > due},
                    {"name": "source", "valueUri": follow_up.rule.source.url},
                ],
            }
        )
    return out


def _visit(name: str, day: date, appointment: dict) -> dict:
    return {
        "name": name,
        "part": [
            {"name": "appointment", "valueReference": {"reference": f"Appointment/{appointment.get('id')}"}},
            {"name": "start", "valueDateTime": appointment.get("start")},
            {"name": "status", "valueCode": appointment.get("status")},
        ],
    }
