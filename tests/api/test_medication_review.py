"""Patient/{id}/$medication-review: diagnoses, reconciled list, alerts, adherence, follow-up; scopes apply."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import RXNORM, appointment, condition, medication_dispense, medication_request, patient


def _rx(code):
    return {"coding": [{"system": RXNORM, "code": code}]}


def _named(parameters, name):
    return [p for p in parameters["parameter"] if p["name"] == name]


def _parts(parameter):
    out = {}
    for part in parameter["part"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        out.setdefault(part["name"], []).append(value)
    return out


def _record(client, unique):
    today = date.today()
    pid = client.create(patient(unique))["id"]
    client.create(condition(pid))
    client.create(
        medication_request(
            pid, medicationCodeableConcept=_rx("312347"), authoredOn=(today - timedelta(days=45)).isoformat()
        )
    )
    client.create(
        medication_request(pid, status="stopped", medicationCodeableConcept=_rx("197527"), authoredOn="2025-01-01")
    )
    for days_ago in (60, 30, 5):
        client.create(medication_dispense(pid, code="312941", when=(today - timedelta(days=days_ago)).isoformat()))
    client.create(
        medication_request(
            pid, medicationCodeableConcept=_rx("312938"), authoredOn=(today - timedelta(days=60)).isoformat()
        )
    )
    return pid


def test_review_reconciles_alerts_and_computes_adherence(client, unique):
    pid = _record(client, unique)
    response = client.get(f"Patient/{pid}/$medication-review")
    assert response.status_code == 200, response.text
    review = response.json()
    assert review["resourceType"] == "Parameters"
    assert [p["resource"]["resourceType"] for p in _named(review, "diagnosis")] == ["Condition"]
    meds = {tuple(_parts(m)["display"]): _parts(m) for m in _named(review, "medication")}
    sertraline = meds[("sertraline",)]
    assert sertraline["status"] == ["current"] and len(sertraline["source"]) == 4  # 3 dispenses + 1 request
    assert meds[("clonazepam",)]["status"] == ["stopped"]
    assert set(meds[("phenelzine",)]["class"]) == {"maoi", "antidepressant"} and meds[("phenelzine",)]["status"] == [
        "current"
    ]
    alerts = {_parts(a)["rule"][0] for a in _named(review, "alert")}
    assert "maoi-ssri" in alerts and "duplicate-ssri" not in alerts  # one entry per ingredient
    adherence = {
        (_parts(a)["level"][0], _parts(a)[_parts(a)["level"][0]][0]["code"]): _parts(a)
        for a in _named(review, "adherence")
    }
    drug = adherence[("drug", "36437")]
    assert drug["source"] == ["MedicationDispense"] and drug["fills"] == [3] and drug["eligible"] == [True]
    assert drug["daysCovered"] == [61] and drug["daysInPeriod"] == [61] and drug["adherent"] == [True]
    assert adherence[("class", "ssri")]["pdc"] == [1.0]


def test_follow_up_overdue_without_a_visit_and_not_with_one(client, unique):
    pid = _record(client, unique)
    follow_up = _parts(_named(client.get(f"Patient/{pid}/$medication-review").json(), "followUp")[0])
    assert follow_up["overdue"] == [True] and follow_up["booked"] == [False]
    changed = date.fromisoformat(follow_up["changeDate"][0])
    visit = (changed + timedelta(days=10)).isoformat()
    client.create(appointment(pid, status="fulfilled", start=f"{visit}T09:00:00Z", end=f"{visit}T09:30:00Z"))
    review = client.get(f"Patient/{pid}/$medication-review").json()
    follow_up = _parts(_named(review, "followUp")[0])
    assert follow_up["overdue"] == [False] and follow_up["booked"] == [True]
    assert _parts(_named(review, "lastAppointment")[0])["status"] == ["fulfilled"]


def test_review_by_post_with_a_period(client, unique):
    pid = _record(client, unique)
    start = (date.today() - timedelta(days=30)).isoformat()
    body = {"resourceType": "Parameters", "parameter": [{"name": "period-start", "valueDate": start}]}
    response = client.post(f"Patient/{pid}/$medication-review", json=body)
    assert response.status_code == 200, response.text
    drug = next(_parts(a) for a in _named(response.json(), "adherence") if _parts(a)["level"] == ["drug"])
    assert drug["periodStart"] == [start]
    assert client.get(f"Patient/{pid}/$medication-review?period-start=yesterday").status_code == 400


def test_patient_scope_reviews_only_its_own_patient(client, client_with, unique):
    mine, theirs = _record(client, unique), _record(client, unique + "x")
    reader = client_with("patient/*.rs", patient=mine)
    assert reader.get(f"Patient/{mine}/$medication-review").status_code == 200
    response = reader.get(f"Patient/{theirs}/$medication-review")
    assert response.status_code in (403, 404)
    assert "phenelzine" not in response.text and "sertraline" not in response.text


def test_user_scope_practitioner_can_review(client, client_with, unique):
    pid = _record(client, unique)
    practitioner = client_with("user/*.rs", fhir_user="Practitioner/p1")
    assert practitioner.get(f"Patient/{pid}/$medication-review").status_code == 200


def test_capability_statement_declares_the_operation(client):
    patient_type = next(r for r in client.get("metadata").json()["rest"][0]["resource"] if r["type"] == "Patient")
    assert "medication-review" in {o["name"] for o in patient_type["operation"]}


def test_patient_user_scope_reviews_only_its_own_record(client, client_with, unique):
    mine, theirs = _record(client, unique), _record(client, unique + "y")
    user = client_with("user/*.rs", fhir_user=f"Patient/{mine}")
    assert user.get(f"Patient/{mine}/$medication-review").status_code == 200
    assert user.get(f"Patient/{theirs}/$medication-review").status_code in (403, 404)


def test_a_posted_period_error_points_at_the_parameter_in_the_body(client, unique):
    pid = _record(client, unique)
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "period-end", "valueDate": "2020-01-01"}, {"name": "period-start", "valueDate": "x"}],
    }
    response = client.post(f"Patient/{pid}/$medication-review", json=body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Parameters.parameter[1]"]
    queried = client.get(f"Patient/{pid}/$medication-review?period-start=yesterday")
    assert queried.json()["issue"][0]["location"] == ["http.period-start"]
