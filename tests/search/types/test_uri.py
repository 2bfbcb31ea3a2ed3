"""URI search (search/types/uri.py, storage/index/uri.py): exact, :below and :above agree in memory
and in SQL on generated meta.source values (R4 search.html#uri)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.search.types.parity import assert_parity, parity_settings

URIS = ["http://a.example", "http://a.example/b", "http://a.example/b/c", "http://a.example/b_c", "urn:x:y"]
patients = st.builds(
    lambda source: {"resourceType": "Patient", **({"meta": {"source": source}} if source else {})},
    st.one_of(st.none(), st.sampled_from(URIS)),
)
queries = st.tuples(
    st.sampled_from(["_source", "_source:below", "_source:above", "_source:missing"]),
    st.sampled_from([*URIS, "http://a.example/", "http://a", "http://a.example/b%"]),
)


@parity_settings
@given(st.lists(patients, min_size=1, max_size=4), st.lists(queries, min_size=1, max_size=4))
def test_sources_match_as_in_sql(client, services, resources, queries):
    queries = [(name, "false" if name.endswith(":missing") else value) for name, value in queries]
    assert_parity(client, services, resources, queries)
