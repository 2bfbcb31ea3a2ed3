"""Quantity search (search/types/quantity.py, storage/index/quantity.py): every prefix, with and
without system|code, agrees in memory and in SQL on generated Ages and Ranges (R4 search.html#quantity)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.fhir.outcomes import BadRequest
from server.search.types.quantity import precision_range, quantity_value
from tests.search.types.parity import assert_parity, parity_settings

UCUM = "http://unitsofmeasure.org"
NUMBERS = ["1", "1.0", "1.5", "2", "10", "9.95", "0.25", "100"]
PREFIXES = ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"]
numbers = st.sampled_from(NUMBERS)
units = st.sampled_from(["a", "mo"])
ages = st.builds(
    lambda value, unit: {
        "value": float(value) if "." in value else int(value),
        "system": UCUM,
        "code": unit,
        "unit": unit,
    },
    numbers,
    units,
)
ranges = st.builds(
    lambda low, high, unit: {
        "low": {"value": float(min(low, high, key=Decimal)), "system": UCUM, "code": unit},
        "high": {"value": float(max(low, high, key=Decimal)), "system": UCUM, "code": unit},
    },
    numbers,
    numbers,
    units,
)
search_values = st.builds(
    lambda prefix, number, unit: prefix + number + unit,
    st.sampled_from(PREFIXES),
    numbers,
    st.sampled_from(["", f"|{UCUM}|a", f"|{UCUM}|mo", "||a", "|http://other|a"]),
)


@parity_settings
@given(st.data())
def test_ages_and_ranges_match_as_in_sql(client, services, subjects, data):
    onsets = data.draw(
        st.lists(
            st.one_of(st.none(), ages.map(lambda a: {"onsetAge": a}), ranges.map(lambda r: {"onsetRange": r})),
            min_size=1,
            max_size=4,
        )
    )
    conditions = [
        {"resourceType": "Condition", "subject": {"reference": f"Patient/{subjects[0]}"}, **(onset or {})}
        for onset in onsets
    ]
    queries = data.draw(
        st.lists(st.tuples(st.sampled_from(["onset-age", "onset-age:missing"]), search_values), min_size=1, max_size=5)
    )
    queries = [(name, "true" if name.endswith(":missing") else value) for name, value in queries]
    assert_parity(client, services, conditions, queries)


def test_precision_of_the_written_number_gives_the_range():
    assert precision_range(Decimal("100")) == (Decimal("99.5"), Decimal("100.5"))
    assert precision_range(Decimal("1.50")) == (Decimal("1.495"), Decimal("1.505"))


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "1e5000", "abc"])
def test_a_number_that_is_no_measurement_is_a_400(text):
    with pytest.raises(BadRequest):
        quantity_value("value-quantity", text)
