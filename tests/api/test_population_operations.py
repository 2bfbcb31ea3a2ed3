"""Group/{id}/$pdc and Patient/$follow-up-gaps: computed in SQL, checked against PQA's rules and the Python PDC."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from server.clinical.adherence import Fill, pdc
from tests.factories import RXNORM, appointment, group, medication_dispense, medication_request, patient


def _summary(parameters):
    return {
        p["name"]: next(v for k, v in p.items() if k.startswith("value"))
        for p in parameters["parameter"]
        if p["name"] != "member"
    }


def _members(parameters):
    out = {}
    for p in parameters["parameter"]:
        if p["name"] == "member":
            parts = {q["name"]: next(v for k, v in q.items() if k.startswith("value")) for q in p["part"]}
            out[parts["patient"]["reference"].removeprefix("Patient/")] = parts
    return out


def test_group_pdc_matches_pqa_shifting_two_drugs_and_the_threshold(client, unique):
    a, b, c, d = (client.create(patient(f"{unique}-{n}"))["id"] for n in "abcd")
    # a: quetiapine 90 d on Jan 1, early refill Mar 25 -> shifted to Apr 1 (PQA fixture): 180 of 365 days
    for when in ("2025-01-01", "2025-03-25"):
        client.create(medication_dispense(a, code="312743", when=when, days=90))
    # b: olanzapine and risperidone filled the same days (not shifted against each other), 30-day refills all year
    for month in range(1, 13):
        client.create(medication_dispense(b, code="312078", when=f"2025-{month:02d}-01", days=31))
        client.create(medication_dispense(b, code="312830", when=f"2025-{month:02d}-01", days=31))
    # c: one fill only (not in the denominator); d: a sertraline fill (not an antipsychotic)
    client.create(medication_dispense(c, code="314154", when="2025-06-01", days=30))
    client.create(medication_dispense(d, code="312941", when="2025-06-01", days=30))
    roster = client.create(group([a, b, c, d], identifier=unique))
    response = client.get(
        f"Group/{roster['id']}/$pdc",
        params={"class": "antipsychotic", "period-start": "2025-01-01", "period-end": "2025-12-31"},
    )
    assert response.status_code == 200, response.text
    members = _members(response.json())
    assert members[a]["daysCovered"] == 180 and members[a]["daysInPeriod"] == 365
    assert members[a]["pdc"] == round(180 / 365, 4) and members[a]["adherent"] is False
    assert members[b]["pdc"] == 1.0 and members[b]["adherent"] is True and members[b]["fills"] == 12
    assert members[c]["eligible"] is False and "adherent" not in members[c]
    assert members[d]["fills"] == 0 and members[d]["eligible"] is False
    summary = _summary(response.json())
    assert (summary["members"], summary["eligible"], summary["adherent"], summary["share"]) == (4, 2, 1, 0.5)


def test_group_pdc_agrees_with_the_python_pdc_on_gaps_and_overlaps(client, unique):
    pid = client.create(patient(unique))["id"]
    fills = [
        ("2025-01-05", 30),
        ("2025-01-20", 30),
        ("2025-04-01", 60),
        ("2025-05-15", 30),
        ("2025-09-01", 90),
        ("2025-12-15", 90),
    ]
    for when, days in fills:
        client.create(medication_dispense(pid, code="349332", when=when, days=days))  # escitalopram 10 MG
    roster = client.create(group([pid], identifier=unique))
    response = client.get(
        f"Group/{roster['id']}/$pdc", params={"class": "ssri", "period-start": "2025-01-01", "period-end": "2025-12-31"}
    )
    member = _members(response.json())[pid]
    expected = pdc([Fill("321988", date.fromisoformat(w), n) for w, n in fills], date(2025, 1, 1), date(2025, 12, 31))
    assert (member["daysCovered"], member["daysInPeriod"]) == (expected.days_covered, expected.days_in_period)
    assert member["pdc"] == expected.value


def test_group_pdc_errors_and_access(client, client_with, unique):
    pid = client.create(patient(unique))["id"]
    roster = client.create(group([pid], identifier=unique))
    assert client.get(f"Group/{roster['id']}/$pdc").status_code == 400  # class missing
    assert client.get(f"Group/{roster['id']}/$pdc", params={"class": "nonsense"}).status_code == 400
    assert client.get(f"Group/{roster['id']}/$pdc", params={"class": "ssri", "period-start": "x"}).status_code == 400
    assert client.get("Group/no-such-group/$pdc", params={"class": "ssri"}).status_code == 404
    stranger = client.create(patient(unique + "s"))["id"]
    reader = client_with("patient/*.rs", patient=stranger)
    assert reader.get(f"Group/{roster['id']}/$pdc", params={"class": "ssri"}).status_code in (403, 404)


def _started(client, unique, days_ago, visit_after=None, status="booked", code="312941"):
    pid = client.create(patient(unique))["id"]
    started = date.today() - timedelta(days=days_ago)
    client.create(
        medication_request(
            pid,
            authoredOn=started.isoformat(),
            medicationCodeableConcept={"coding": [{"system": RXNORM, "code": code}]},
        )
    )
    if visit_after is not None:
        day = (started + timedelta(days=visit_after)).isoformat()
        client.create(appointment(pid, status=status, start=f"{day}T10:00:00Z", end=f"{day}T10:30:00Z"))
    return pid


def test_follow_up_gaps_on_a_generated_population(client, unique):
    gap = [_started(client, f"{unique}-g{i}", 10 + i) for i in range(5)]  # started, no visit
    late = _started(client, f"{unique}-late", 20, visit_after=45)  # the visit is outside the window
    cancelled = _started(client, f"{unique}-cx", 20, visit_after=7, status="cancelled")
    seen = [
        _started(client, f"{unique}-s{i}", 15, visit_after=7, status=s) for i, s in enumerate(("booked", "fulfilled"))
    ]
    old = _started(client, f"{unique}-old", 90)  # started before the window
    not_psych = _started(client, f"{unique}-np", 10, code="314076")  # lisinopril
    response = client.get(
        "Patient/$follow-up-gaps", params={"started-within": 30, "follow-up-within": 30, "_count": 1000}
    )
    assert response.status_code == 200, response.text
    bundle = response.json()
    ids = {e["resource"]["id"] for e in bundle.get("entry", [])}
    assert set(gap) | {late, cancelled} <= ids
    assert not ids & (set(seen) | {old, not_psych})
    assert bundle["type"] == "searchset" and bundle["total"] >= 7
    assert all(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"])


def test_follow_up_gaps_under_a_patient_token_show_at_most_that_patient(client, client_with, unique):
    mine = _started(client, f"{unique}-m", 5)
    _started(client, f"{unique}-o", 5)
    reader = client_with("patient/*.rs", patient=mine)
    response = reader.get("Patient/$follow-up-gaps")
    assert response.status_code == 200
    assert {e["resource"]["id"] for e in response.json().get("entry", [])} == {mine}
    assert client.get("Patient/$follow-up-gaps", params={"started-within": "soon"}).status_code == 400


def _links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


def test_follow_up_gaps_page_with_count_and_next_links_in_a_stable_order(client, unique):
    mine = {_started(client, f"{unique}-p{i}", 3 + i % 3) for i in range(5)}  # ties on the start day: id decides
    params = {"started-within": 30, "follow-up-within": 30}
    whole = client.get("Patient/$follow-up-gaps", params={**params, "_count": 1000}).json()
    everyone = [e["resource"]["id"] for e in whole["entry"]]
    assert mine <= set(everyone) and whole["total"] == len(everyone) and "next" not in _links(whole)
    paged, url, pages = [], None, 0
    page = client.get("Patient/$follow-up-gaps", params={**params, "_count": 2}).json()
    while True:
        pages += 1
        assert page["type"] == "searchset" and page["total"] == whole["total"]
        assert len(page.get("entry", [])) <= 2
        paged += [e["resource"]["id"] for e in page.get("entry", [])]
        url = _links(page).get("next")
        if url is None:
            break
        assert url.startswith(client.base_url + "/Patient/$follow-up-gaps?") and "_count=2" in url
        page = client.get(url).json()
    assert paged == everyone and pages == -(-len(everyone) // 2)  # each once, in the same order


def test_follow_up_gaps_refuse_a_bad_cursor_and_count(client):
    response = client.get("Patient/$follow-up-gaps", params={"_cursor": "not-a-cursor"})
    assert response.status_code == 400 and response.json()["issue"][0]["location"] == ["http._cursor"]
    response = client.get("Patient/$follow-up-gaps", params={"_count": 0})
    assert response.status_code == 400 and response.json()["issue"][0]["location"] == ["http._count"]


def test_days_supply_is_searchable(client, unique):
    pid = client.create(patient(unique))["id"]
    short = client.create(medication_dispense(pid, when="2025-01-01", days=30))["id"]
    long = client.create(medication_dispense(pid, when="2025-02-01", days=90))["id"]
    found = client.get("MedicationDispense", params={"patient": pid, "days-supply": "ge60"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [long]
    found = client.get("MedicationDispense", params={"patient": pid, "days-supply": "30"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [short]


def test_group_pdc_reads_the_supply_of_a_dispense_stored_before_days_supply_was_indexed(client, database_url, unique):
    pid = client.create(patient(unique))["id"]
    for when in ("2025-01-01", "2025-03-25"):
        client.create(medication_dispense(pid, code="312743", when=when, days=90))
    roster = client.create(group([pid], identifier=unique))["id"]
    params = {"class": "antipsychotic", "period-start": "2025-01-01", "period-end": "2025-12-31"}
    indexed = _members(client.get(f"Group/{roster}/$pdc", params=params).json())[pid]
    assert indexed["daysCovered"] == 180
    with psycopg.connect(database_url, autocommit=True) as conn:  # as a database from before the parameter
        removed = conn.execute(
            "DELETE FROM search_quantity WHERE param = 'days-supply' AND patient_id = %s", (pid,)
        ).rowcount
    assert removed == 2
    assert _members(client.get(f"Group/{roster}/$pdc", params=params).json())[pid] == indexed
