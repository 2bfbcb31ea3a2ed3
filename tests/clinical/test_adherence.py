"""PDC as PQA defines it, on PQA's worked fixtures and hand-checked overlaps and gaps."""

from __future__ import annotations

from datetime import date

from server.clinical.adherence import Fill, pdc, shifted

SERTRALINE, FLUOXETINE = "36437", "4493"


def test_early_refill_of_the_same_drug_starts_after_the_prior_supply():
    # PQA pdc-dr fixture: a 90-day fill on 2018-01-01, the next 90-day fill on 2018-03-25 -> first dose 2018-04-01
    fills = [Fill(SERTRALINE, date(2018, 1, 1), 90), Fill(SERTRALINE, date(2018, 3, 25), 90)]
    assert shifted(fills) == [(date(2018, 1, 1), date(2018, 3, 31)), (date(2018, 4, 1), date(2018, 6, 29))]
    result = pdc(fills, date(2018, 1, 1), date(2018, 12, 31))
    assert (result.index_date, result.days_in_period, result.days_covered) == (date(2018, 1, 1), 365, 180)
    assert result.value == round(180 / 365, 4) and result.eligible and result.adherent is False


def test_two_drugs_of_one_class_on_the_same_day_are_not_shifted():
    # PQA fixture pattern: two drugs of the class filled the same day both start that day
    fills = [
        Fill(SERTRALINE, date(2018, 1, 1), 30),
        Fill(FLUOXETINE, date(2018, 1, 1), 30),
        Fill(SERTRALINE, date(2018, 1, 31), 30),
    ]
    result = pdc(fills, date(2018, 1, 1), date(2018, 3, 1))
    assert result.days_covered == 60  # Jan 1 - Mar 1: the fluoxetine days overlap sertraline's, counted once
    assert result.days_in_period == 60 and result.value == 1.0 and result.adherent is True


def test_gaps_lower_the_pdc_and_supply_past_the_period_end_is_dropped():
    fills = [
        Fill(SERTRALINE, date(2026, 1, 1), 30),
        Fill(SERTRALINE, date(2026, 3, 2), 30),
        Fill(SERTRALINE, date(2026, 4, 20), 90),
    ]
    result = pdc(fills, date(2026, 1, 1), date(2026, 4, 30))
    # covered: Jan 1-30 (30), Mar 2-31 (30), Apr 20-30 (11) = 71 of 120 days
    assert (result.days_in_period, result.days_covered) == (120, 71)
    assert result.value == round(71 / 120, 4) and result.adherent is False


def test_index_date_is_the_first_fill_in_the_period_and_one_fill_is_not_enough():
    result = pdc([Fill(SERTRALINE, date(2026, 2, 1), 30)], date(2026, 1, 1), date(2026, 3, 2))
    assert result.index_date == date(2026, 2, 1) and result.days_in_period == 30 and result.days_covered == 30
    assert result.value == 1.0 and not result.eligible and result.adherent is None


def test_refills_80_percent_covered_meet_the_threshold():
    fills = [
        Fill(SERTRALINE, date(2026, 1, 1), 30),
        Fill(SERTRALINE, date(2026, 2, 7), 30),
        Fill(SERTRALINE, date(2026, 3, 15), 30),
    ]
    result = pdc(fills, date(2026, 1, 1), date(2026, 4, 30))
    assert result.days_covered == 90 and result.days_in_period == 120
    assert result.value == 0.75 and result.adherent is False
    more = pdc(fills + [Fill(SERTRALINE, date(2026, 4, 14), 30)], date(2026, 1, 1), date(2026, 4, 30))
    assert more.days_covered == 107 and more.adherent is True  # 107/120 = 0.89


def test_no_fill_in_the_period_gives_no_pdc():
    result = pdc([Fill(SERTRALINE, date(2025, 1, 1), 30)], date(2026, 1, 1), date(2026, 12, 31))
    assert result.value is None and result.adherent is None
