"""Fills for PDC from a record: dispenses, else statement periods, else the request's dispense request."""

from __future__ import annotations

from datetime import date, timedelta

from .adherence import Fill
from .knowledge import Knowledge
from .medications import _day, days_supply, medication
from .records import PatientRecord

NOT_TAKEN = {"entered-in-error", "cancelled", "declined", "not-taken"}


def fills_by_drug(knowledge: Knowledge, record: PatientRecord, period_end: date) -> dict[str, list[Fill]]:
    """Ingredient RxCUI -> its fills from the best source the record has for it (the source is on each fill)."""
    found: dict[str, dict[str, list[Fill]]] = {}

    def add(resource: dict, fills: list[tuple[date, int]], source: str) -> None:
        for drug in medication(knowledge, resource).ingredients:
            found.setdefault(drug, {}).setdefault(source, []).extend(Fill(drug, d, n, source) for d, n in fills)

    for resource in record.resources.get("medicationDispenses", []):
        when, supply = _day(resource.get("whenHandedOver")), days_supply(resource)
        if resource.get("status") == "completed" and when and supply:
            add(resource, [(when, supply)], "MedicationDispense")
    for resource in record.resources.get("medicationStatements", []):
        fact = medication(knowledge, resource)
        if fact.start and resource.get("status") not in NOT_TAKEN:
            end = fact.end or (period_end if resource.get("status") == "active" else fact.start)
            add(resource, [(fact.start, (min(end, period_end) - fact.start).days + 1)], "MedicationStatement")
    for resource in record.resources.get("medicationRequests", []):
        fact, supply = medication(knowledge, resource), days_supply(resource)
        if fact.start and supply and resource.get("status") not in NOT_TAKEN:
            repeats = (resource.get("dispenseRequest") or {}).get("numberOfRepeatsAllowed") or 0
            add(
                resource,
                [(fact.start + timedelta(days=supply * i), supply) for i in range(int(repeats) + 1)],
                "MedicationRequest",
            )
    best = {}
    for drug, sources in found.items():
        for source in ("MedicationDispense", "MedicationStatement", "MedicationRequest"):
            if sources.get(source):
                best[drug] = sources[source]
                break
    return best
