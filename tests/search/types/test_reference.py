"""Reference search (search/types/reference.py, storage/index/reference.py): ids, Type/id, absolute
URLs (ours and external), type modifiers and :identifier agree in memory and in SQL (R4 search.html#reference)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.search.types.parity import assert_parity, parity_settings

EXTERNAL = "http://other.example/fhir/Patient/ext1"


@parity_settings
@given(st.data())
def test_references_match_as_in_sql(client, services, subjects, data):
    base = services.base_url
    literals = st.sampled_from(
        [f"Patient/{subjects[0]}", f"Patient/{subjects[1]}", f"{base}/Patient/{subjects[1]}", EXTERNAL]
    )
    references = st.builds(
        lambda literal, identifier: {
            "reference": literal,
            **({"identifier": {"system": "urn:mrn", "value": identifier}} if identifier else {}),
        },
        literals,
        st.one_of(st.none(), st.sampled_from(["1", "2"])),
    )
    conditions = data.draw(
        st.lists(
            st.builds(
                lambda subject, asserter: {
                    "resourceType": "Condition",
                    "subject": subject,
                    **({"asserter": asserter} if asserter else {}),
                },
                references,
                st.one_of(st.none(), references),
            ),
            min_size=1,
            max_size=4,
        )
    )
    values = st.sampled_from(
        [
            subjects[0],
            f"Patient/{subjects[1]}",
            f"{base}/Patient/{subjects[0]}",
            EXTERNAL,
            f"Practitioner/{subjects[0]}",
            "ext1",
            f"{subjects[0]},{subjects[1]}",
        ]
    )
    queries = data.draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.sampled_from(["subject", "patient", "asserter", "subject:Patient", "asserter:Patient"]), values
                ),
                st.tuples(
                    st.sampled_from(["subject:identifier", "asserter:identifier"]),
                    st.sampled_from(["urn:mrn|1", "2", "|1", "urn:mrn|"]),
                ),
                st.tuples(st.just("asserter:missing"), st.sampled_from(["true", "false"])),
            ),
            min_size=1,
            max_size=5,
        )
    )
    assert_parity(client, services, conditions, queries)
