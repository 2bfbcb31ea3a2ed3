"""The OperationDefinitions of this server's own operations (profiles/OperationDefinition/): each one the
CapabilityStatement declares resolves by url and by id, is a valid R4 OperationDefinition (fhir.resources and
the independent Medplum validator), and lists exactly the parameters its route accepts and returns."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from server.fhir.models import structure_errors
from tests.api.test_independent_validation import validate
from tests.factories import RXNORM, appointment, condition, group, medication_dispense, medication_request, patient

OURS = "https://github.com/fhir-medication-server/OperationDefinition/"


def _declared(client) -> list[tuple[str, dict]]:
    """(resource type, operation) of every operation in /metadata whose definition is ours."""
    statement = client.get("metadata").json()
    return [
        (resource["type"], operation)
        for resource in statement["rest"][0]["resource"]
        for operation in resource.get("operation", [])
        if operation["definition"].startswith(OURS)
    ]


def _definition(client, operation_id: str) -> dict:
    response = client.get(f"OperationDefinition/{operation_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_each_declared_definition_resolves_by_url_and_by_id(client):
    declared = _declared(client)
    assert {o["name"] for _, o in declared} == {"medication-review", "follow-up-gaps", "pdc"}
    for resource_type, operation in declared:
        found = client.get("OperationDefinition", params={"url": operation["definition"]}).json()
        assert found["total"] == 1, operation
        definition = found["entry"][0]["resource"]
        assert definition["url"] == operation["definition"] and definition["code"] == operation["name"]
        assert resource_type in definition["resource"]
        assert _definition(client, definition["id"]) == definition
    assert client.get("OperationDefinition", params={"code": "pdc"}).json()["total"] == 1
    assert client.get("OperationDefinition/nope").status_code == 404
    assert client.get("OperationDefinition", params={"publisher": "x"}).status_code == 400
    assert client.post("OperationDefinition", json={"resourceType": "OperationDefinition"}).status_code in (404, 405)


def _parameters(definition: dict):
    """Every parameter and part, with its path (for messages)."""
    pending = [(p["name"], p) for p in definition["parameter"]]
    while pending:
        path, parameter = pending.pop()
        yield path, parameter
        pending += [(f"{path}.{part['name']}", part) for part in parameter.get("part", [])]


def test_each_definition_is_valid_r4(client):
    definitions = [_definition(client, o["definition"].removeprefix(OURS)) for _, o in _declared(client)]
    for definition in definitions:
        assert structure_errors("OperationDefinition", definition) == [], definition["id"]
        for path, parameter in _parameters(definition):
            assert parameter["use"] in ("in", "out") and parameter.get("documentation"), path
            assert int(parameter["min"]) >= 0 and (parameter["max"] == "*" or int(parameter["max"]) >= 1), path
            assert "type" in parameter or "part" in parameter, f"opd-1: {path}"  # a type, or parts
        assert definition["affectsState"] is False  # each may be invoked with GET (operations.html#request)
    for definition, issues in zip(definitions, validate(definitions), strict=True):
        assert [i for i in issues if i.get("severity") in ("error", "fatal")] == [], definition["id"]


def _ins(definition: dict) -> dict[str, dict]:
    return {p["name"]: p for p in definition["parameter"] if p["use"] == "in"}


@pytest.fixture
def reviewed(client, unique):
    """A patient with something for every part of a review, and a group of them with dispenses."""
    today = date.today()
    pid = client.create(patient(unique))["id"]
    client.create(condition(pid))
    started = today - timedelta(days=45)
    client.create(
        medication_request(
            pid,
            medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "312347"}]},  # phenelzine
            authoredOn=started.isoformat(),
        )
    )
    client.create(medication_request(pid, authoredOn=(today - timedelta(days=3)).isoformat()))  # sertraline
    for days_ago in (60, 30, 5):
        client.create(medication_dispense(pid, code="312941", when=(today - timedelta(days=days_ago)).isoformat()))
        client.create(medication_dispense(pid, code="312743", when=(today - timedelta(days=days_ago)).isoformat()))
    for days_ago, status in ((20, "fulfilled"), (-10, "booked")):
        day = (today - timedelta(days=days_ago)).isoformat()
        client.create(appointment(pid, status=status, start=f"{day}T09:00:00Z", end=f"{day}T09:30:00Z"))
    return pid, client.create(group([pid], identifier=unique))["id"]


def _gap_cursor(client) -> str:
    """A next link's cursor: two gaps at least (started today, no visit) make a second page of one."""
    for n in range(2):
        pid = client.create(patient(f"gap-{n}"))["id"]
        client.create(medication_request(pid, authoredOn=date.today().isoformat()))
    page = client.get("Patient/$follow-up-gaps", params={"_count": 1}).json()
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    return parse_qs(urlsplit(next_url).query)["_cursor"][0]


# A valid value for every in-parameter of each operation: a parameter declared and not here, or here and not
# declared, fails the test below.
SAMPLES = {
    "Patient-medication-review": lambda client: {"period-start": "2026-01-01", "period-end": "2026-06-30"},
    "Patient-follow-up-gaps": lambda client: {
        "started-within": "60",
        "follow-up-within": "30",
        "_count": "5",
        "_cursor": _gap_cursor(client),
    },
    "Group-pdc": lambda client: {"class": "antipsychotic", "period-start": "2026-01-01", "period-end": "2026-11-30"},
}


def _url(operation_id: str, pid: str, group_id: str) -> str:
    return {
        "Patient-medication-review": f"Patient/{pid}/$medication-review",
        "Patient-follow-up-gaps": "Patient/$follow-up-gaps",
        "Group-pdc": f"Group/{group_id}/$pdc",
    }[operation_id]


@pytest.mark.parametrize("operation_id", sorted(SAMPLES))
def test_the_route_accepts_exactly_the_declared_in_parameters(client, reviewed, operation_id):
    pid, group_id = reviewed
    ins = _ins(_definition(client, operation_id))
    samples = SAMPLES[operation_id](client)
    assert set(samples) == set(ins)
    url = _url(operation_id, pid, group_id)
    assert client.get(url, params=samples).status_code == 200
    for name in ins:  # each one alone (with the required ones) is accepted too
        required = {n: samples[n] for n, p in ins.items() if p["min"] > 0}
        assert client.get(url, params={**required, name: samples[name]}).status_code == 200, name
    for name, parameter in ins.items():
        if parameter["min"] > 0:  # a required one missing
            response = client.get(url, params={n: v for n, v in samples.items() if n != name})
            assert response.status_code == 400 and response.json()["issue"][0]["location"] == [f"http.{name}"]
    response = client.get(url, params={**samples, "period_start": "2026-01-01"})  # not declared: refused
    assert response.status_code == 400
    assert response.json()["issue"][0]["location"] == ["http.period_start"]


# R4 datatypes.html: the primitive types are named in lower camel case, the complex ones capitalised
PRIMITIVES = {"boolean", "integer", "decimal", "string", "code", "date", "dateTime", "uri", "instant", "id"}


def _type_of(parameter: dict) -> str:
    if "resource" in parameter:
        return parameter["resource"]["resourceType"]
    suffix = next(k for k in parameter if k.startswith("value"))[5:]
    lowered = suffix[0].lower() + suffix[1:]
    return lowered if lowered in PRIMITIVES else suffix


def _conforms(parameters: list[dict], declared: list[dict], path: str) -> None:
    """Every parameter is declared as out at its level with its type, and the cardinalities hold."""
    outs = {p["name"]: p for p in declared if p["use"] == "out"}
    for parameter in parameters:
        name = f"{path}{parameter['name']}"
        assert parameter["name"] in outs, f"{name} is not declared"
        spec = outs[parameter["name"]]
        if "part" in parameter:
            assert "part" in spec, name
            _conforms(parameter["part"], spec["part"], name + ".")
        else:
            assert _type_of(parameter) == spec["type"], name
    for spec in outs.values():
        count = sum(p["name"] == spec["name"] for p in parameters)
        assert count >= spec["min"] and (spec["max"] == "*" or count <= int(spec["max"])), f"{path}{spec['name']}"


def test_a_review_returns_only_declared_out_parameters(client, reviewed):
    pid, _ = reviewed
    review = client.get(f"Patient/{pid}/$medication-review").json()
    definition = _definition(client, "Patient-medication-review")
    _conforms(review["parameter"], definition["parameter"], "")
    returned = {p["name"] for p in review["parameter"]}
    assert returned == {p["name"] for p in definition["parameter"] if p["use"] == "out"}  # each one shown once


def test_a_group_pdc_returns_only_declared_out_parameters(client, reviewed):
    _, group_id = reviewed
    result = client.get(f"Group/{group_id}/$pdc", params={"class": "antipsychotic"}).json()
    definition = _definition(client, "Group-pdc")
    _conforms(result["parameter"], definition["parameter"], "")
    assert {p["name"] for p in result["parameter"]} == {p["name"] for p in definition["parameter"] if p["use"] == "out"}


def test_follow_up_gaps_return_the_declared_bundle(client, reviewed):
    [out] = [p for p in _definition(client, "Patient-follow-up-gaps")["parameter"] if p["use"] == "out"]
    assert (out["name"], out["type"], out["max"]) == ("return", "Bundle", "1")  # operations.html#response
    assert client.get("Patient/$follow-up-gaps").json()["resourceType"] == "Bundle"
