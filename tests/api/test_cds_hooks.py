"""CDS Hooks 2.0: discovery, order-select and order-sign with and without prefetch, client JWTs, feedback,
errors, and cross-patient isolation (cds-hooks.hl7.org/2.0)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from server.auth.cds_clients import register_cds_client
from server.auth.clients import register_client
from server.interactions.cds_feedback import feedback_counts
from tests.factories import RXNORM, condition, medication_dispense, medication_request, patient

SELECT = "medication-safety-order-select"
SIGN = "medication-safety-order-sign"


def draft(patient_id: str, code: str, id: str = "draft-1", system: str = RXNORM, **fields) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        **fields,
    }


def hook_request(hook: str, patient_id: str, drafts: list[dict], **extra) -> dict:
    context = {
        "userId": "Practitioner/example",
        "patientId": patient_id,
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]},
    }
    if hook == "order-select":
        context["selections"] = [f"MedicationRequest/{drafts[0]['id']}"] if drafts else []
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context, **extra}


@pytest.fixture
def hooks(live_server):
    """A session against the server root with a system token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {live_server.token('system/*.cruds')}"
    session.root = live_server.root_url
    yield session
    session.close()


def post(session, service, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return session.post(f"{session.root}/cds-services/{service}", json=body, headers=headers)


@pytest.fixture
def on_phenelzine(client, unique):
    """A patient with an active phenelzine order, depression, born 1980."""
    pid = client.create(patient(unique))["id"]
    client.create(medication_request(pid, medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "312347"}]}))
    client.create(condition(pid))
    return pid


def test_discovery_lists_both_services_with_prefetch_templates(hooks):
    response = hooks.get(f"{hooks.root}/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert services[SELECT]["hook"] == "order-select" and services[SIGN]["hook"] == "order-sign"
    prefetch = services[SIGN]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["medicationRequests"] == "MedicationRequest?patient={{context.patientId}}&status=active"
    assert set(prefetch) == {
        "patient",
        "medicationRequests",
        "medicationStatements",
        "medicationDispenses",
        "conditions",
    }


def test_discovery_needs_authentication(live_server):
    response = requests.get(f"{live_server.root_url}/cds-services")
    assert response.status_code == 401
    assert "error" in response.json()


def test_order_select_without_prefetch_reads_the_record_and_returns_a_critical_card(hooks, on_phenelzine):
    body = hook_request("order-select", on_phenelzine, [draft(on_phenelzine, "312941")])  # sertraline 50 MG
    response = post(hooks, SELECT, body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    card = next(c for c in cards if c["source"]["topic"]["code"] == "maoi-ssri")
    assert card["indicator"] == "critical"
    assert "sertraline" in card["summary"].lower() and "phenelzine" in card["summary"].lower()
    assert len(card["summary"]) < 140
    assert card["source"]["url"].startswith("https://") and card["source"]["label"]
    assert "**Mechanism:**" in card["detail"] and "**What to do:**" in card["detail"]
    uuid.UUID(card["uuid"])
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "delete" and action["resourceId"] == "MedicationRequest/draft-1"
    assert card["selectionBehavior"] == "at-most-one"
    assert all(r["display"] for r in card["overrideReasons"])


def test_clean_draft_gives_no_cards(hooks, on_phenelzine):
    response = post(hooks, SIGN, hook_request("order-sign", on_phenelzine, [draft(on_phenelzine, "197901")]))
    assert response.status_code == 200
    assert response.json() == {"cards": []}  # lorazepam with phenelzine: nothing in the rules


def test_order_sign_with_full_prefetch_uses_it_and_checks_the_dose(hooks, unique, live_server):
    pid = f"pf-{unique}"  # not stored at all: everything comes from the prefetch
    prefetch = {
        "patient": {"resourceType": "Patient", "id": pid, "birthDate": "1950-01-01"},
        "medicationRequests": None,
        "medicationStatements": None,
        "conditions": None,
        "medicationDispenses": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        **medication_dispense(pid, code="2541", when=time.strftime("%Y-%m-%d"), days=30),  # cimetidine
                        "id": "d1",
                    }
                }
            ],
        },
    }
    order = draft(
        pid,
        "309314",
        dosageInstruction=[
            {
                "doseAndRate": [{"doseQuantity": {"value": 40, "unit": "mg"}}],
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            }
        ],
    )
    body = hook_request("order-sign", pid, [order], prefetch=prefetch)
    response = requests.post(
        f"{live_server.root_url}/cds-services/{SIGN}",
        json=body,
        headers={"Authorization": f"Bearer {live_server.token('system/*.cruds')}"},
    )
    assert response.status_code == 200, response.text
    rules = {c["source"]["topic"]["code"]: c for c in response.json()["cards"]}
    assert {"citalopram-cimetidine", "citalopram-max-daily-dose"} <= set(rules)
    assert rules["citalopram-max-daily-dose"]["indicator"] == "warning"
    assert (
        "40" in rules["citalopram-max-daily-dose"]["summary"] and "20" in rules["citalopram-max-daily-dose"]["summary"]
    )


def test_order_select_does_not_check_the_dose(hooks, unique):
    pid = f"pf-{unique}"
    prefetch = {
        "patient": {"resourceType": "Patient", "id": pid, "birthDate": "1980-01-01"},
        "medicationRequests": None,
        "medicationStatements": None,
        "conditions": None,
        "medicationDispenses": None,
    }
    order = draft(pid, "309314", dosageInstruction=[{"doseAndRate": [{"doseQuantity": {"value": 80, "unit": "mg"}}]}])
    response = post(hooks, SELECT, hook_request("order-select", pid, [order], prefetch=prefetch))
    assert response.status_code == 200 and response.json()["cards"] == []


def test_diagnosis_and_age_cards_from_the_stored_record(hooks, client, unique):
    pid = client.create(patient(unique, birthDate="2006-05-01"))["id"]
    client.create(condition(pid, code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F50.2"}]}))
    response = post(hooks, SIGN, hook_request("order-sign", pid, [draft(pid, "993541")]))  # bupropion XL
    rules = {c["source"]["topic"]["code"]: c["indicator"] for c in response.json()["cards"]}
    assert rules == {"bupropion-eating-disorder": "critical", "antidepressant-under-25": "info"}


def test_a_medication_not_in_rxnorm_gets_one_info_card(hooks, on_phenelzine):
    order = draft(
        on_phenelzine,
        "X-123",
        system="http://pharmacy.example/codes",
        medicationCodeableConcept={
            "text": "house blend tea",
            "coding": [{"system": "http://pharmacy.example/codes", "code": "X-123"}],
        },
    )
    cards = post(hooks, SELECT, hook_request("order-select", on_phenelzine, [order])).json()["cards"]
    assert len(cards) == 1 and cards[0]["indicator"] == "info"
    assert "house blend tea" in cards[0]["summary"]


def test_patient_token_for_another_patient_reveals_nothing(client_with, client, on_phenelzine, unique, live_server):
    other = client.create(patient(unique + "-other"))["id"]
    token = live_server.token("patient/*.rs", patient=other)
    body = hook_request("order-select", on_phenelzine, [draft(on_phenelzine, "312941")])
    response = requests.post(
        f"{live_server.root_url}/cds-services/{SELECT}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 412
    assert "phenelzine" not in response.text.lower()


def test_fhir_authorization_token_is_used_and_confined_to_its_patient(live_server, client, on_phenelzine, unique):
    other = client.create(patient(unique + "-b"))["id"]
    body = hook_request(
        "order-select",
        on_phenelzine,
        [draft(on_phenelzine, "312941")],
        fhirServer=live_server.base_url,
        fhirAuthorization={
            "access_token": live_server.token("patient/*.rs", patient=other),
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.rs",
            "subject": "cds",
            "patient": other,
        },
    )
    caller = live_server.token("system/*.cruds")
    response = requests.post(
        f"{live_server.root_url}/cds-services/{SELECT}", json=body, headers={"Authorization": f"Bearer {caller}"}
    )
    assert response.status_code == 412 and "phenelzine" not in response.text.lower()
    body["fhirAuthorization"]["access_token"] = live_server.token("patient/*.rs", patient=on_phenelzine)
    response = requests.post(
        f"{live_server.root_url}/cds-services/{SELECT}", json=body, headers={"Authorization": f"Bearer {caller}"}
    )
    assert any(c["source"]["topic"]["code"] == "maoi-ssri" for c in response.json()["cards"])


def test_prefetch_resources_of_another_patient_are_ignored(hooks, unique):
    pid, other = f"a-{unique}", f"b-{unique}"
    prefetch = {
        "patient": {"resourceType": "Patient", "id": pid},
        "medicationStatements": None,
        "conditions": None,
        "medicationDispenses": None,
        "medicationRequests": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        **medication_request(other),
                        "id": "x",
                        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "8123"}]},
                    }
                }
            ],
        },
    }
    response = post(hooks, SELECT, hook_request("order-select", pid, [draft(pid, "312941")], prefetch=prefetch))
    assert response.status_code == 200 and response.json()["cards"] == []


def test_partial_prefetch_without_authorization_is_412(live_server, unique):
    key = ECKey.generate_key("P-384", parameters={"kid": "k1"})
    registered = register_client(
        live_server.app.extensions["fhir.services"].database,
        name="ehr",
        redirect_uris=[],
        scope="",
        public=False,
        jwks={"keys": [key.as_dict(private=False)]},
    )
    register_cds_client(live_server.app.extensions["fhir.services"].database, registered["client_id"], f"ehr-{unique}")
    url = f"{live_server.root_url}/cds-services/{SELECT}"

    def signed(aud=url, iss=f"ehr-{unique}"):
        now = int(time.time())
        return jwt.encode(
            {"alg": "ES384", "kid": "k1", "typ": "JWT"},
            {"iss": iss, "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())},
            key,
            algorithms=["ES384"],
        )

    pid = f"p-{unique}"
    body = hook_request(
        "order-select", pid, [draft(pid, "312941")], prefetch={"patient": {"resourceType": "Patient", "id": pid}}
    )
    response = requests.post(url, json=body, headers={"Authorization": f"Bearer {signed()}"})
    assert response.status_code == 412, response.text
    body["prefetch"].update(
        {"medicationRequests": None, "medicationStatements": None, "conditions": None, "medicationDispenses": None}
    )
    token = signed()
    response = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["cards"] == []
    replay = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert replay.status_code == 401  # jti used once
    wrong_aud = requests.post(url, json=body, headers={"Authorization": f"Bearer {signed(aud=url + 'x')}"})
    assert wrong_aud.status_code == 401
    unknown = requests.post(url, json=body, headers={"Authorization": f"Bearer {signed(iss='stranger')}"})
    assert unknown.status_code == 401


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda b: b.pop("hookInstance"), "hookInstance"),
        (lambda b: b.update(hook="patient-view"), "hook"),
        (lambda b: b["context"].pop("patientId"), "patientId"),
        (lambda b: b["context"].update(draftOrders=[]), "draftOrders"),
        (lambda b: b["context"].pop("selections"), "selections"),
        (lambda b: b.update(prefetch=[1]), "prefetch"),
        (lambda b: b.update(fhirAuthorization={"access_token": "x"}), "fhirServer"),
    ],
)
def test_bad_requests_get_400_with_a_json_error(hooks, mutate, expected):
    body = hook_request("order-select", "p1", [draft("p1", "312941")])
    mutate(body)
    response = post(hooks, SELECT, body)
    assert response.status_code == 400
    assert expected in response.json()["error"]


def test_unparseable_body_is_400_and_unknown_service_is_404(hooks):
    response = hooks.post(
        f"{hooks.root}/cds-services/{SELECT}", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "error" in response.json()
    assert post(hooks, "no-such-service", {}).status_code == 404


def test_feedback_is_stored_and_counted_per_rule(hooks, on_phenelzine, live_server):
    cards = post(hooks, SELECT, hook_request("order-select", on_phenelzine, [draft(on_phenelzine, "312941")])).json()
    card = next(c for c in cards["cards"] if c["source"]["topic"]["code"] == "maoi-ssri")
    database = live_server.app.extensions["fhir.services"].database
    before = {(r["service"], r["rule"]): r for r in feedback_counts(database)}[(SELECT, "maoi-ssri")]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-12-01T10:00:00Z",
            }
        ]
    }
    response = hooks.post(f"{hooks.root}/cds-services/{SELECT}/feedback", json=feedback)
    assert response.status_code == 200, response.text
    after = {(r["service"], r["rule"]): r for r in feedback_counts(database)}[(SELECT, "maoi-ssri")]
    assert after["accepted"] == before["accepted"] + 1
    bad = hooks.post(
        f"{hooks.root}/cds-services/{SELECT}/feedback",
        json={
            "feedback": [
                {"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z"}
            ]
        },
    )
    assert bad.status_code == 400 and "card" in bad.json()["error"]
    wrong = hooks.post(
        f"{hooks.root}/cds-services/{SELECT}/feedback",
        json={"feedback": [{"card": card["uuid"], "outcome": "ignored", "outcomeTimestamp": "2026-12-01T10:00:00Z"}]},
    )
    assert wrong.status_code == 400


def test_cli_registers_a_cds_client_whose_jwt_is_accepted(live_server, database_url, tmp_path, unique):
    from tests.test_cli import one_json_object, run_cli

    key = ECKey.generate_key("P-384", parameters={"kid": "cli"})
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(__import__("json").dumps({"keys": [key.as_dict(private=False)]}))
    env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": live_server.base_url}
    registered = one_json_object(
        run_cli(
            "client",
            "create",
            "--name",
            "EHR",
            "--scope",
            "",
            "--confidential",
            "--jwks-file",
            str(jwks_file),
            "--cds-hooks",
            "--cds-issuer",
            f"https://ehr-{unique}.example",
            env=env,
        )
    )
    assert registered["cds_issuer"] == f"https://ehr-{unique}.example"
    now = int(time.time())
    token = jwt.encode(
        {"alg": "ES384", "kid": "cli", "typ": "JWT"},
        {
            "iss": registered["cds_issuer"],
            "aud": f"{live_server.root_url}/cds-services",
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        },
        key,
        algorithms=["ES384"],
    )
    response = requests.get(f"{live_server.root_url}/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json()["services"]) == 2
