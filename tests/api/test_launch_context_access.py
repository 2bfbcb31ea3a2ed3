"""The patient context of a launch passes the same access decision as a read of that Patient by the
signed-in user (scopes-and-launch-context.html: user/ scopes and launch context are limited by what the
user may see): with FHIR_PRACTITIONER_ACCESS=assigned the picker neither lists nor accepts a patient
outside the Practitioner's care, and an EHR launch for one is refused."""

from __future__ import annotations

import dataclasses

import pytest
import requests

from tests.auth.smart_app import Form, new_app, new_launch, new_user
from tests.conftest import FhirClient, LiveServer
from tests.factories import patient

SCOPE = "launch/patient patient/*.rs"


@pytest.fixture(scope="module")
def assigned_server(settings):
    server = LiveServer(dataclasses.replace(settings, practitioner_access="assigned"))
    yield server
    server.stop()


@pytest.fixture
def care(assigned_server, unique):
    """A Practitioner user with one patient in their care; another patient in someone else's care."""
    practitioner = f"pr-{unique[:12]}"
    with FhirClient(assigned_server.base_url, assigned_server.token("system/*.cruds")) as admin:
        for doctor in (practitioner, "someone-else"):  # generalPractitioner targets must exist
            assert admin.put(f"Practitioner/{doctor}", json={"resourceType": "Practitioner", "id": doctor}).ok
        mine = admin.create(
            patient(
                mrn=f"a-{unique}",
                family=f"Mine{unique[:6]}",
                generalPractitioner=[{"reference": f"Practitioner/{practitioner}"}],
            )
        )
        other = admin.create(
            patient(
                mrn=f"b-{unique}",
                family=f"Other{unique[:6]}",
                generalPractitioner=[{"reference": "Practitioner/someone-else"}],
            )
        )
    username, password = new_user(assigned_server, f"Practitioner/{practitioner}")
    app = new_app(assigned_server, "patient/*.rs user/*.rs")
    return {"app": app, "username": username, "password": password, "mine": mine, "other": other, "unique": unique}


def _picker(care) -> requests.Response:
    app = care["app"]
    page, _, _ = app.start(SCOPE)
    page = app.submit(page, {"username": care["username"], "password": care["password"]})
    assert page.status_code == 200 and "Choose a patient" in page.text, page.text[:300]
    return page


def _search(care, page, **criteria) -> requests.Response:
    return care["app"].submit(page, criteria, containing="q")


def _listed(page) -> set[str]:
    return {value for name, value in Form(page.text, "patient_id").radios if name == "patient"}


def test_picker_refuses_a_typed_id_of_a_patient_outside_the_users_care(care):
    page = _picker(care)
    refused = care["app"].submit(page, {"patient_id": care["other"]["id"]}, containing="patient_id")
    assert refused.status_code == 404
    assert "No patient you may see" in refused.text
    chosen = care["app"].submit(refused, {"patient_id": care["mine"]["id"]}, containing="patient_id")
    assert chosen.status_code == 200 and "Allow" in chosen.text


def test_picker_radio_choice_of_an_unassigned_patient_is_refused(care):
    page = _picker(care)
    refused = care["app"].submit(page, {"patient": care["other"]["id"]}, containing="patient_id")
    assert refused.status_code == 404


def test_picker_lists_and_finds_only_patients_the_user_may_see(care):
    page = _picker(care)
    assert care["mine"]["id"] in _listed(page)
    assert care["other"]["id"] not in _listed(page)
    by_mrn = _search(care, page, mrn=f"b-{care['unique']}")
    assert by_mrn.status_code == 200 and _listed(by_mrn) == set()
    by_name = _search(care, page, q=f"Other{care['unique'][:6]}")
    assert _listed(by_name) == set()
    assert _listed(_search(care, page, mrn=f"a-{care['unique']}")) == {care["mine"]["id"]}


def test_ehr_launch_for_a_patient_outside_the_users_care_is_refused(assigned_server, care):
    app = care["app"]
    launch = new_launch(assigned_server, care["other"]["id"])
    page, _, _ = app.start("launch patient/*.rs", launch=launch)
    refused = app.submit(page, {"username": care["username"], "password": care["password"]})
    assert refused.status_code == 403
    assert "may not open this patient" in refused.text
    launch = new_launch(assigned_server, care["mine"]["id"])
    page, _, _ = app.start("launch patient/*.rs", launch=launch)
    allowed = app.submit(page, {"username": care["username"], "password": care["password"]})
    assert allowed.status_code == 200 and "Allow" in allowed.text


def test_patient_user_cannot_be_launched_into_another_patients_record(live_server, client, unique):
    me, someone = client.create(patient(f"me-{unique}")), client.create(patient(f"so-{unique}"))
    username, password = new_user(live_server, f"Patient/{me['id']}")
    app = new_app(live_server, "patient/*.rs")
    page, _, _ = app.start("launch patient/*.rs", launch=new_launch(live_server, someone["id"]))
    refused = app.submit(page, {"username": username, "password": password})
    assert refused.status_code == 403


def test_a_token_from_the_picker_reads_only_the_chosen_assigned_patient(assigned_server, care):
    authorization = care["app"].authorize(SCOPE, care["username"], care["password"], patient=care["mine"]["id"])
    token = care["app"].exchange(authorization).json()
    assert token["patient"] == care["mine"]["id"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(f"{assigned_server.base_url}/Patient/{care['mine']['id']}", headers=headers).status_code == 200
    assert requests.get(f"{assigned_server.base_url}/Patient/{care['other']['id']}", headers=headers).status_code in (
        403,
        404,
    )
