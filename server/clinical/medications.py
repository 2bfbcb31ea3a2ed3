"""A patient's medication facts read from MedicationRequest, MedicationStatement and MedicationDispense JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .knowledge import RXNORM, Knowledge

PER_DAY = {"s": 86400.0, "min": 1440.0, "h": 24.0, "d": 1.0, "wk": 1 / 7, "mo": 1 / 30, "a": 1 / 365}


@dataclass(frozen=True)
class Medication:
    """One medication resource, resolved to RxNorm ingredients (empty when it could not be checked)."""

    reference: str  # "MedicationRequest/12"
    resource_type: str
    status: str
    ingredients: tuple[str, ...]
    display: str
    code: str | None  # the RxNorm code used, if any
    start: date | None
    end: date | None  # end of the period or of the days' supply
    mg_per_day: float | None = None

    @property
    def checked(self) -> bool:
        return bool(self.ingredients)


def medication(knowledge: Knowledge, resource: dict) -> Medication:
    """The Medication fact of a request, statement or dispense."""
    concept = resource.get("medicationCodeableConcept") or {}
    codings = concept.get("coding") or []
    code: str | None = None
    ingredients: tuple[str, ...] = ()
    for coding in codings:
        if coding.get("system") == RXNORM and coding.get("code"):
            code = code or coding["code"]
            ingredients = knowledge.ingredients_of(coding["code"])
            if ingredients:
                code = coding["code"]
                break
    display = concept.get("text") or next((c.get("display") for c in codings if c.get("display")), None)
    if not display and ingredients:
        display = " / ".join(knowledge.name(i) for i in ingredients)
    if not display:
        display = (resource.get("medicationReference") or {}).get("display") or code or "unnamed medication"
    start, end = _period(resource)
    kind = resource.get("resourceType", "")
    return Medication(
        f"{kind}/{resource.get('id', '')}",
        kind,
        resource.get("status", ""),
        tuple(ingredients),
        display,
        code,
        start,
        end,
        _mg_per_day(knowledge, resource, code),
    )


def _day(value) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def days_supply(resource: dict) -> int | None:
    """daysSupply of a dispense, or dispenseRequest.expectedSupplyDuration of a request (in days)."""
    quantity = resource.get("daysSupply") or (resource.get("dispenseRequest") or {}).get("expectedSupplyDuration")
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float)):
        return None
    unit = quantity.get("code") or quantity.get("unit") or "d"
    factor = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "mo": 30, "month": 30}.get(unit, 1)
    return max(int(round(quantity["value"] * factor)), 0)


def _period(resource: dict) -> tuple[date | None, date | None]:
    kind = resource.get("resourceType")
    if kind == "MedicationDispense":
        start = _day(resource.get("whenHandedOver"))
        supply = days_supply(resource)
        return start, (start + timedelta(days=supply - 1) if start and supply else start)
    if kind == "MedicationStatement":
        period = resource.get("effectivePeriod") or {}
        start = (
            _day(period.get("start")) or _day(resource.get("effectiveDateTime")) or _day(resource.get("dateAsserted"))
        )
        return start, _day(period.get("end"))
    validity = (resource.get("dispenseRequest") or {}).get("validityPeriod") or {}
    return _day(resource.get("authoredOn")) or _day(validity.get("start")), _day(validity.get("end"))


def _mg_per_day(knowledge: Knowledge, resource: dict, code: str | None) -> float | None:
    """The prescribed daily dose in mg from the first dosage instruction, when it can be computed."""
    dosages = resource.get("dosageInstruction") or resource.get("dosage") or []
    if not dosages or not isinstance(dosages[0], dict):
        return None
    dosage = dosages[0]
    dose = next((r.get("doseQuantity") for r in dosage.get("doseAndRate") or [] if r.get("doseQuantity")), None)
    if not isinstance(dose, dict) or not isinstance(dose.get("value"), (int, float)):
        return None
    unit = (dose.get("code") or dose.get("unit") or "").lower()
    if unit == "mg":
        mg = float(dose["value"])
    else:
        drug = knowledge.drugs.get(code or "")
        if drug is None or drug.strength_mg is None:
            return None
        mg = float(dose["value"]) * drug.strength_mg  # a count of units of the coded clinical drug
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    frequency = repeat.get("frequencyMax") or repeat.get("frequency") or 1
    period = repeat.get("period") or 1
    per_day = PER_DAY.get(repeat.get("periodUnit") or "d")
    if per_day is None or not period:
        return None
    return mg * frequency * per_day / period
