"""Pages a clinician can trust (issue 11): the app named by its registered name (never its client_id),
the picker showing name, birth date, sex and MRN and searching by them, the consent page naming the user
and the patient and saying in plain words what the app asks and for how long; error pages with a next step."""

from __future__ import annotations

import html

from tests.auth.smart_app import new_app, new_user
from tests.factories import patient


def _text(page) -> str:
    return html.unescape(page.text)


def test_login_page_after_a_wrong_password_names_the_app_not_its_client_id(live_server, unique):
    app = new_app(live_server, "patient/*.rs")
    username, _ = new_user(live_server, "Patient/x" + unique[:6])
    page, _, _ = app.start("patient/*.rs")
    again = app.submit(page, {"username": username, "password": "wrong"})
    assert again.status_code == 401
    name = live_server.app.extensions["fhir.auth"].server.query_client(app.client_id).row.name
    assert name in _text(again) and app.client_id not in again.text


def test_picker_searches_by_name_birth_date_and_mrn_and_shows_who_each_patient_is(live_server, client, unique):
    family = f"Picker{unique[:8]}"
    wanted = client.create(patient(mrn=f"m-{unique}", family=family, birthDate="1971-03-09", gender="male"))
    client.create(patient(mrn=f"n-{unique}", family=family, birthDate="1990-01-01"))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, "Practitioner/dr-" + unique[:6])
    page, _, _ = app.start("launch/patient patient/*.rs")
    page = app.submit(page, {"username": username, "password": password})
    for criteria in ({"mrn": f"m-{unique}"}, {"q": family, "birthdate": "1971-03-09"}):
        found = app.submit(page, criteria, containing="q")
        assert found.status_code == 200
        text = _text(found)
        assert f"{family}, Jane" in text and "9 March 1971" in text and "Male" in text and f"m-{unique}" in text
        assert "1 January 1990" not in text
        assert f'value="{wanted["id"]}"' in found.text
    both = _text(app.submit(page, {"q": family}, containing="q"))
    assert "9 March 1971" in both and "1 January 1990" in both
    bad = app.submit(page, {"birthdate": "not-a-date"}, containing="q")
    assert bad.status_code == 400 and "Could not search" in bad.text


def test_consent_names_app_user_and_patient_in_plain_words_with_the_raw_scope_and_duration(live_server, client, unique):
    record = client.create(patient(mrn=f"c-{unique}", family=f"Consent{unique[:6]}", birthDate="1984-11-30"))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, "Practitioner/dr-" + unique[:6])
    page, _, _ = app.start("launch/patient patient/MedicationRequest.rs patient/Condition.rs offline_access")
    page = app.submit(page, {"username": username, "password": password})
    page = app.submit(page, {"patient_id": record["id"]}, containing="patient_id")
    text = _text(page)
    name = live_server.app.extensions["fhir.auth"].server.query_client(app.client_id).row.name
    assert name in text and username in text
    assert f"Consent{unique[:6]}, Jane, born 30 November 1984" in text
    assert f"Patient/{record['id']}" not in text
    assert "Read and search this patient's prescriptions" in text and "patient/MedicationRequest.rs" in text
    assert "Read and search this patient's diagnoses" in text
    assert "Keep access for 30 days" in text and "offline_access" in text
    assert "How long:" in text


def test_patient_user_reads_your_records_and_a_one_hour_access(live_server, client, unique):
    me = client.create(patient(unique))
    app = new_app(live_server, "patient/*.rs")
    username, password = new_user(live_server, f"Patient/{me['id']}")
    page, _, _ = app.start("launch/patient patient/*.rs")
    text = _text(app.submit(page, {"username": username, "password": password}))
    assert "Read and search your health records" in text
    assert "Doe, Jane" in text  # the user greeted by their own record's name
    assert "1 hour" in text


def test_error_pages_say_what_to_do_next(live_server):
    unknown = live_server.app.test_client().get("/auth/authorize?client_id=nobody&redirect_uri=http://x/")
    assert unknown.status_code == 400
    page = unknown.get_data(as_text=True)
    assert "What to do next" in page and "developer" in page
    expired = live_server.app.test_client().post("/auth/consent", data={"request": "gone", "decision": "allow"})
    assert expired.status_code == 400 and "open it again" in expired.get_data(as_text=True)
