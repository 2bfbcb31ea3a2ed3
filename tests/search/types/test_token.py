"""Token search (search/types/token.py, storage/index/token.py): the in-memory match agrees with the
SQL on generated Identifiers, codes, booleans, ContactPoints and CodeableConcepts (R4 search.html#token)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.search.types.token import token_value
from server.storage.index.token import ANY_SYSTEM
from tests.search.types.parity import assert_parity, parity_settings

SYSTEMS = ["http://s.example/a", "http://s.example/b"]
CODES = ["x", "X", "y", "x,y", "x|y"]
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def _escaped(code: str) -> str:
    return code.replace("\\", "\\\\").replace(",", "\\,").replace("|", "\\|")


codes = st.sampled_from(CODES)
systems = st.sampled_from(SYSTEMS)
identifiers = st.builds(
    lambda system, value, kind: {
        **({"system": system} if system else {}),
        "value": value,
        **({"type": {"coding": [{"system": V2_0203, "code": kind}]}} if kind else {}),
    },
    st.one_of(st.none(), systems),
    codes,
    st.one_of(st.none(), st.sampled_from(["MR", "DL"])),
)
telecoms = st.builds(
    lambda system, value: {"system": system, "value": value},
    st.sampled_from(["phone", "email"]),
    st.sampled_from(["555", "a@b.example"]),
)
patients = st.builds(
    lambda identifier, gender, active, telecom: {
        "resourceType": "Patient",
        "identifier": identifier,
        **({"gender": gender} if gender else {}),
        **({"active": active} if active is not None else {}),
        **({"telecom": telecom} if telecom else {}),
    },
    st.lists(identifiers, min_size=1, max_size=3),
    st.one_of(st.none(), st.sampled_from(["female", "male"])),
    st.one_of(st.none(), st.booleans()),
    st.lists(telecoms, max_size=2),
)


def _token_query(system, code) -> str:
    if code is None:
        return f"{system}|" if system else ""
    if system == "":
        return f"|{_escaped(code)}"
    return f"{system}|{_escaped(code)}" if system else _escaped(code)


token_queries = st.builds(_token_query, st.sampled_from([None, "", *SYSTEMS]), st.one_of(st.none(), codes)).filter(
    lambda q: q != "|" and q
)
patient_queries = st.one_of(
    st.tuples(
        st.sampled_from(["identifier", "identifier:not"]), st.lists(token_queries, min_size=1, max_size=2).map(",".join)
    ),
    st.tuples(
        st.just("identifier:of-type"),
        st.builds(lambda kind, code: f"{V2_0203}|{kind}|{_escaped(code)}", st.sampled_from(["MR", "DL"]), codes),
    ),
    st.tuples(st.sampled_from(["gender", "gender:not"]), st.sampled_from(["female", "male", "female,male", "|male"])),
    st.tuples(st.just("active"), st.sampled_from(["true", "false"])),
    st.tuples(st.sampled_from(["telecom", "phone", "email"]), st.sampled_from(["555", "a@b.example", "phone|555"])),
    st.tuples(
        st.sampled_from(["identifier:missing", "gender:missing", "telecom:missing"]), st.sampled_from(["true", "false"])
    ),
)


@parity_settings
@given(st.lists(patients, min_size=1, max_size=4), st.lists(patient_queries, min_size=1, max_size=4))
def test_identifier_code_boolean_and_telecom_tokens_match_as_in_sql(client, services, resources, queries):
    assert_parity(client, services, resources, queries)


codings = st.builds(
    lambda system, code, display: {"system": system, "code": code, **({"display": display} if display else {})},
    systems,
    codes,
    st.one_of(st.none(), st.sampled_from(["Major depression", "Bipolar"])),
)
concepts = st.builds(
    lambda coding, text: {**({"coding": coding} if coding else {}), **({"text": text} if text else {})},
    st.lists(codings, max_size=2),
    st.one_of(st.none(), st.sampled_from(["Depression", "déprime"])),
).filter(bool)
condition_queries = st.one_of(
    st.tuples(st.sampled_from(["code", "code:not"]), st.lists(token_queries, min_size=1, max_size=2).map(",".join)),
    st.tuples(st.just("code:text"), st.sampled_from(["dep", "DÉP", "major", "bipolar", "x"])),
    st.tuples(
        st.sampled_from(["category", "code:missing"]), st.sampled_from(["true", f"{CATEGORY}|problem-list-item"])
    ),
)


@parity_settings
@given(st.data())
def test_codeable_concepts_and_text_match_as_in_sql(client, services, subjects, data):
    conditions = data.draw(
        st.lists(
            st.builds(
                lambda code, problem: {
                    "resourceType": "Condition",
                    "subject": {"reference": f"Patient/{subjects[0]}"},
                    **({"code": code} if code else {}),
                    **(
                        {"category": [{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}]}
                        if problem
                        else {}
                    ),
                },
                st.one_of(st.none(), concepts),
                st.booleans(),
            ),
            min_size=1,
            max_size=4,
        )
    )
    assert_parity(client, services, conditions, data.draw(st.lists(condition_queries, min_size=1, max_size=4)))


def test_token_value_forms():
    assert token_value("x") == token_value("x") and token_value("x").system is ANY_SYSTEM
    assert (token_value("|x").system, token_value("|x").code) == (None, "x")
    assert (token_value("s|").system, token_value("s|").code) == ("s", None)
    assert token_value(r"s|a\|b").code == "a|b"
