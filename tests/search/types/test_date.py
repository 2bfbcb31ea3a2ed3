"""Date search (search/types/date.py, storage/index/date.py): every prefix agrees in memory and in SQL
on generated dates, dateTimes and Periods of every precision and time zone (R4 search.html#date),
and _lastUpdated compares meta.lastUpdated as the SQL compares the stored instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.search.dates import _parse_range, parse_range
from tests.search.types.parity import assert_parity, parity_settings

PREFIXES = ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"]
days = st.dates(min_value=date(2019, 12, 31), max_value=date(2020, 1, 1))
zones = st.sampled_from(["Z", "+02:00", "-05:00"])


def _date_text(day: date, precision: int) -> str:
    return day.isoformat()[: [4, 7, 10][precision]]


def _date_time_text(day: date, hour: int, minute: int, second: int | None, zone: str) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}" + (f":{second:02d}" if second is not None else ":00") + zone


dates = st.builds(_date_text, days, st.integers(0, 2))
date_times = st.one_of(
    dates,
    st.builds(
        _date_time_text,
        days,
        st.sampled_from([0, 12, 23]),
        st.sampled_from([0, 30]),
        st.one_of(st.none(), st.sampled_from([0, 59])),
        zones,
    ),
)


def _period(start: str | None, end: str | None) -> dict:
    """Start before end (invariant per-1), compared as instants."""
    if start and end and parse_range(start)[0] > parse_range(end)[0]:
        start, end = end, start
    return {**({"start": start} if start else {}), **({"end": end} if end else {})}


periods = st.builds(_period, st.one_of(st.none(), date_times), st.one_of(st.none(), date_times)).filter(bool)
search_dates = st.one_of(
    dates,
    st.builds(
        lambda day, hour, minute, zone: f"{day.isoformat()}T{hour:02d}:{minute:02d}{zone}",
        days,
        st.sampled_from([0, 12, 23]),
        st.sampled_from([0, 30]),
        st.sampled_from(["", "Z", "+02:00"]),
    ),
)
search_values = st.builds(lambda prefix, value: prefix + value, st.sampled_from(PREFIXES), search_dates)


@parity_settings
@given(
    st.lists(st.one_of(st.none(), dates), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(["birthdate", "birthdate:missing"]), search_values), min_size=1, max_size=4),
)
def test_birth_dates_match_as_in_sql(client, services, births, queries):
    patients = [{"resourceType": "Patient", **({"birthDate": b} if b else {})} for b in births]
    queries = [(name, "true" if name.endswith(":missing") else value) for name, value in queries]
    assert_parity(client, services, patients, queries)


@parity_settings
@given(st.data())
def test_onsets_and_periods_match_as_in_sql(client, services, subjects, data):
    onsets = data.draw(
        st.lists(
            st.one_of(
                st.none(), date_times.map(lambda d: {"onsetDateTime": d}), periods.map(lambda p: {"onsetPeriod": p})
            ),
            min_size=1,
            max_size=4,
        )
    )
    conditions = [
        {"resourceType": "Condition", "subject": {"reference": f"Patient/{subjects[0]}"}, **(onset or {})}
        for onset in onsets
    ]
    queries = data.draw(st.lists(st.tuples(st.just("onset-date"), search_values), min_size=1, max_size=5))
    assert_parity(client, services, conditions, queries)


@parity_settings
@given(
    st.lists(
        st.tuples(st.sampled_from(PREFIXES[1:]), st.integers(-3, 3), st.sampled_from([19, 16, 10])),
        min_size=1,
        max_size=5,
    )
)
def test_last_updated_matches_as_in_sql(client, services, offsets):
    """Search instants around now, at second, minute and hour precision."""
    now = datetime.now(UTC)
    queries = [
        (
            "_lastUpdated",
            prefix
            + (now + timedelta(seconds=shift)).strftime("%Y-%m-%dT%H:%M:%S")[:length]
            + ("Z" if length > 10 else ""),
        )
        for prefix, shift, length in offsets
    ]
    assert_parity(client, services, [{"resourceType": "Patient"}, {"resourceType": "Patient", "active": True}], queries)


def test_fractions_of_a_second_are_read_as_digits_not_floats():
    # float(".000249") * 1e6 is 248.99999999999997: the low bound was a microsecond early
    assert parse_range("2000-01-01T00:00:00.000249Z")[0].microsecond == 249
    assert parse_range("2000-01-01T00:00:00.5+01:00")[0].microsecond == 500000
    assert parse_range("2000-01-01T00:00:00.123456789Z")[0].microsecond == 123456


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_the_servers_own_instants_parse_as_the_general_rule_reads_them(moment):
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # meta.lastUpdated, AuditEvent.recorded
    assert parse_range(text) == _parse_range(text)
