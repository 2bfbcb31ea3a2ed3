"""Proportion of Days Covered as PQA defines it (pure functions over fills).

PQA PDC: the treatment period runs from the index date (first fill in the measurement period) to the period
end; each day counts once when covered by a fill's supply; an early refill of the same drug starts the day
after the prior supply ends; fills of different drugs of one class are not shifted against each other;
supply past the period end is dropped; the patient needs at least two fills on different dates; adherent
means PDC >= 0.8."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

THRESHOLD = 0.8
MIN_FILLS = 2


@dataclass(frozen=True)
class Fill:
    drug: str  # ingredient RxCUI
    day: date  # date of service (whenHandedOver)
    days: int  # days' supply
    source: str = "MedicationDispense"


@dataclass(frozen=True)
class Pdc:
    index_date: date | None
    period_end: date
    days_in_period: int
    days_covered: int
    fills: int
    source: str | None

    @property
    def value(self) -> float | None:
        return round(self.days_covered / self.days_in_period, 4) if self.days_in_period else None

    @property
    def eligible(self) -> bool:
        """The denominator rule: at least two fills on different dates of service."""
        return self.fills >= MIN_FILLS

    @property
    def adherent(self) -> bool | None:
        return None if self.value is None or not self.eligible else self.value >= THRESHOLD


def shifted(fills: list[Fill]) -> list[tuple[date, date]]:
    """Supply intervals of one drug, an early refill moved to the day after the previous supply ends."""
    intervals, next_free = [], None
    for fill in sorted(fills, key=lambda f: (f.day, -f.days)):
        if fill.days <= 0:
            continue
        start = fill.day if next_free is None or fill.day >= next_free else next_free
        end = start + timedelta(days=fill.days - 1)
        intervals.append((start, end))
        next_free = end + timedelta(days=1)
    return intervals


def pdc(fills: list[Fill], period_start: date, period_end: date) -> Pdc:
    """PDC of a drug (fills of one drug) or a class (fills of its drugs, each drug shifted on its own)."""
    in_period = [f for f in fills if period_start <= f.day <= period_end]
    if not in_period:
        return Pdc(None, period_end, 0, 0, 0, None)
    index = min(f.day for f in in_period)
    covered: set[date] = set()
    for drug in {f.drug for f in fills}:
        for start, end in shifted([f for f in fills if f.drug == drug and f.day <= period_end]):
            day = max(start, index)
            while day <= min(end, period_end):
                covered.add(day)
                day += timedelta(days=1)
    sources = sorted({f.source for f in in_period})
    return Pdc(
        index,
        period_end,
        (period_end - index).days + 1,
        len(covered),
        len({f.day for f in in_period}),
        "+".join(sources),
    )
