"""String search (search/types/string.py, storage/index/string.py): the in-memory match agrees with
the SQL on generated HumanNames and Addresses, with case, accents and the :exact and :contains
modifiers (R4 search.html#string)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.search.normalize import normalize
from tests.search.types.parity import assert_parity, parity_settings

WORDS = ["Eve", "eve", "Ève", "Evé", "Müller", "MULLER", "Straße", "van Dijk", "O'Neil", "x_y", "50%"]
words = st.sampled_from(WORDS)
names = st.builds(
    lambda family, given, prefix: {
        **({"family": family} if family else {}),
        "given": given,
        **({"prefix": [prefix]} if prefix else {}),
    },
    st.one_of(st.none(), words),
    st.lists(words, min_size=1, max_size=2),
    st.one_of(st.none(), words),
)
addresses = st.builds(
    lambda city, line: {"city": city, **({"line": line} if line else {})}, words, st.lists(words, max_size=2)
)
patients = st.builds(
    lambda name, address: {"resourceType": "Patient", "name": name, **({"address": address} if address else {})},
    st.lists(names, min_size=1, max_size=2),
    st.lists(addresses, max_size=1),
)
# Prefixes and fragments of the words, in other cases and accents, and LIKE's own wildcards.
fragments = st.sampled_from(
    [
        "e",
        "E",
        "ev",
        "ève",
        "Eve",
        "ve",
        "mül",
        "mu",
        "strasse",
        "straß",
        "van d",
        "o'",
        "x_",
        "_",
        "%",
        "50%",
        "Müller",
    ]
)
queries = st.tuples(
    st.sampled_from(
        [
            "name",
            "family",
            "given",
            "address",
            "address-city",
            "phonetic",
            "name:exact",
            "family:exact",
            "name:contains",
            "address:contains",
            "family:missing",
            "address:missing",
        ]
    ),
    st.one_of(fragments, st.lists(fragments, min_size=2, max_size=2).map(",".join)),
)


@parity_settings
@given(st.lists(patients, min_size=1, max_size=4), st.lists(queries, min_size=1, max_size=5))
def test_names_and_addresses_match_as_in_sql(client, services, resources, queries):
    queries = [(name, "true" if name.endswith(":missing") else value) for name, value in queries]
    assert_parity(client, services, resources, queries)


def test_normalization_ignores_case_and_accents():
    assert normalize("Ève") == normalize("EVE") == "eve"
    assert normalize("Straße") == "strasse"
