"""Quantity (R4 search.html#quantity) and uri (#uri) search."""

from __future__ import annotations

from tests.api.search.helpers import found
from tests.factories import condition, patient

UCUM = "http://unitsofmeasure.org"


def test_quantity_with_prefix_and_units(client, unique):
    subject = client.create(patient(unique))["id"]
    teen = client.create(condition(subject, onsetAge={"value": 16, "unit": "a", "system": UCUM, "code": "a"}))["id"]
    adult = client.create(condition(subject, onsetAge={"value": 34, "unit": "a", "system": UCUM, "code": "a"}))["id"]
    assert found(client, "Condition", patient=subject, **{"onset-age": "16"}) == [teen]
    assert found(client, "Condition", patient=subject, **{"onset-age": f"gt18|{UCUM}|a"}) == [adult]
    assert found(client, "Condition", patient=subject, **{"onset-age": "le18||a"}) == [teen]
    assert found(client, "Condition", patient=subject, **{"onset-age": f"34|{UCUM}|mo"}) == []


def test_quantity_precision_defines_the_range(client, unique):
    subject = client.create(patient(unique))["id"]
    age = client.create(condition(subject, onsetAge={"value": 16.4, "system": UCUM, "code": "a"}))["id"]
    assert found(client, "Condition", patient=subject, **{"onset-age": "16"}) == [age]
    assert found(client, "Condition", patient=subject, **{"onset-age": "16.0"}) == []


def test_invalid_quantity_returns_400(client):
    assert client.get("Condition", params={"onset-age": "sixteen"}).status_code == 400


def test_uri_exact_and_below(client, unique):
    source = f"http://ehr.example/feeds/{unique}/nightly"
    created = client.create(patient(unique, meta={"source": source}))["id"]
    assert found(client, "Patient", _source=source) == [created]
    assert found(client, "Patient", _source=f"http://ehr.example/feeds/{unique}") == []
    assert found(client, "Patient", **{"_source:below": f"http://ehr.example/feeds/{unique}"}) == [created]
