"""Result parameters (R4 search.html#return): _summary, _elements, _total, _count."""

from __future__ import annotations

from tests.factories import medication_request, patient

XHTML_JANE = '<div xmlns="http://www.w3.org/1999/xhtml">Jane</div>'  # txt-1: narrative is XHTML


def _resources(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _subsetted(resource):
    return any(tag["code"] == "SUBSETTED" for tag in resource["meta"].get("tag", []))


def test_summary_true_keeps_summary_elements(client, unique):
    created = client.create(
        patient(
            unique, text={"status": "generated", "div": XHTML_JANE}, communication=[{"language": {"text": "English"}}]
        )
    )
    resource = _resources(client.get("Patient", params={"_id": created["id"], "_summary": "true"}).json())[0]
    assert "name" in resource and "birthDate" in resource
    assert "communication" not in resource and "text" not in resource
    assert _subsetted(resource)


def test_summary_count_returns_only_the_total(client, unique):
    client.create(patient(unique))
    bundle = client.get("Patient", params={"identifier": unique, "_summary": "count"}).json()
    assert bundle["total"] == 1 and "entry" not in bundle


def test_summary_data_drops_the_narrative(client, unique):
    created = client.create(patient(unique, text={"status": "generated", "div": XHTML_JANE}))
    resource = _resources(client.get("Patient", params={"_id": created["id"], "_summary": "data"}).json())[0]
    assert "text" not in resource and "name" in resource


def test_summary_text_keeps_text_and_mandatory_elements(client, unique):
    subject = client.create(patient(unique))["id"]
    created = client.create(
        medication_request(
            subject, text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
        )
    )
    resource = _resources(client.get("MedicationRequest", params={"_id": created["id"], "_summary": "text"}).json())[0]
    assert set(resource) >= {"text", "status", "intent", "subject", "id", "meta"}
    assert "dosageInstruction" not in resource


def test_elements_keeps_only_the_named_elements(client, unique):
    created = client.create(patient(unique))
    resource = _resources(client.get("Patient", params={"_id": created["id"], "_elements": "gender,birthDate"}).json())[
        0
    ]
    assert set(resource) == {"resourceType", "id", "meta", "gender", "birthDate"}
    assert _subsetted(resource)


def test_total_none_and_estimate(client, unique):
    client.create(patient(unique))
    assert "total" not in client.get("Patient", params={"identifier": unique, "_total": "none"}).json()
    assert isinstance(client.get("Patient", params={"identifier": unique, "_total": "estimate"}).json()["total"], int)
    assert client.get("Patient", params={"identifier": unique, "_total": "accurate"}).json()["total"] == 1


def test_invalid_result_parameters_return_400(client):
    for params in ({"_summary": "maybe"}, {"_total": "lots"}, {"_count": "ten"}):
        assert client.get("Patient", params=params).status_code == 400, params
