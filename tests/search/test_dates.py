"""Date search values become ranges from their precision (R4 search.html#date)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.fhir.outcomes import BadRequest
from server.search.dates import parse_range
from server.search.types.date import parse_date_value

UTC = UTC


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("1980", datetime(1980, 1, 1, tzinfo=UTC), datetime(1981, 1, 1, tzinfo=UTC)),
        ("1980-12", datetime(1980, 12, 1, tzinfo=UTC), datetime(1981, 1, 1, tzinfo=UTC)),
        ("1980-02-28", datetime(1980, 2, 28, tzinfo=UTC), datetime(1980, 2, 29, tzinfo=UTC)),
        ("2026-11-27T10:15", datetime(2026, 11, 27, 10, 15, tzinfo=UTC), datetime(2026, 11, 27, 10, 16, tzinfo=UTC)),
        (
            "2026-11-27T10:15:30Z",
            datetime(2026, 11, 27, 10, 15, 30, tzinfo=UTC),
            datetime(2026, 11, 27, 10, 15, 31, tzinfo=UTC),
        ),
    ],
)
def test_precision_defines_the_range(text, low, high):
    assert parse_range(text) == (low, high)


def test_offset_is_kept_and_compares_in_utc():
    low, _ = parse_range("2026-11-27T10:00:00+02:00")
    assert low == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_fractional_seconds_make_a_microsecond_range():
    low, high = parse_range("2026-11-27T10:00:00.5Z")
    assert high - low == timedelta(microseconds=1)
    assert low.microsecond == 500000


def test_prefix_is_split_from_the_value():
    value = parse_date_value("_lastUpdated", "ge2026-01")
    assert value.prefix == "ge"
    assert value.low == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2026-13", "2026-1-1", "xx2026", "2026-11-27T25:00", ""])
def test_invalid_values_raise_bad_request(text):
    with pytest.raises(BadRequest):
        parse_date_value("_lastUpdated", text)
