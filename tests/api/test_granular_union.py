"""Several SMART v2 granular scopes on one type grant what any of them grants
(scopes-and-launch-context.html#finer-grained-resource-constraints-using-search-parameters), also when
they restrict different parameters: a search returns the union, a read is allowed by either."""

from __future__ import annotations

from tests.factories import condition, patient

CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
SNOMED = "http://snomed.info/sct"


def test_granular_scopes_on_different_parameters_grant_their_union(client, client_with, unique):
    mine = client.create(patient(unique))["id"]
    problem = client.create(
        condition(
            mine,
            category=[{"coding": [{"system": CATEGORY, "code": "problem-list-item"}]}],
            code={"coding": [{"system": SNOMED, "code": "1"}]},
        )
    )["id"]
    coded = client.create(condition(mine, code={"coding": [{"system": SNOMED, "code": unique}]}))["id"]
    neither = client.create(condition(mine, code={"coding": [{"system": SNOMED, "code": "2"}]}))["id"]
    reader = client_with(
        f"system/Condition.rs?category={CATEGORY}|problem-list-item system/Condition.rs?code={SNOMED}|{unique}"
    )
    found = reader.get("Condition", params={"subject": mine})
    assert found.status_code == 200, found.text
    assert sorted(e["resource"]["id"] for e in found.json()["entry"]) == sorted([problem, coded])
    assert reader.get(f"Condition/{problem}").status_code == 200
    assert reader.get(f"Condition/{coded}").status_code == 200
    assert reader.get(f"Condition/{neither}").status_code == 403
