"""The audit trail's own index rows for its AuditEvents equal the generic extraction's, and so do the keys it stores,
also when it takes part of them from a shape (events.EventShape) that many events share."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.audit.events import audit_event, rendered_event
from server.audit.rows import audit_event_rows
from server.auth.policy import AccessPolicy
from server.auth.scopes import parse_scopes
from server.fhir.interactions import Interaction
from server.interactions import write_path
from server.interactions.audit import Access
from server.search.extract import index_rows
from server.storage import audit_events

BASE = "http://127.0.0.1:8080/fhir"
SYSTEM = AccessPolicy(tuple(parse_scopes("system/*.cruds")), subject="svc", client_id="backend")
PRACTITIONER = AccessPolicy(
    tuple(parse_scopes("user/*.rs")), fhir_user="Practitioner/dr1", subject="u1", client_id="app"
)
PATIENT_USER = AccessPolicy(
    tuple(parse_scopes("patient/*.rs")), patient="p9", fhir_user="Patient/p9", subject="u2", client_id="portal"
)

ACCESSES = [
    Access(
        "read",
        None,
        "Patient",
        [("Patient", "p1")],
        {"p1"},
        200,
        policy=SYSTEM,
        address="10.0.0.1",
        request_id="r1",
        method="GET",
        path="/fhir/Patient/p1",
    ),
    Access(
        "search-type",
        None,
        "MedicationRequest",
        [],
        {"p1", "p2"},
        200,
        policy=PRACTITIONER,
        request_id="r2",
        method="GET",
        path="/fhir/MedicationRequest",
        query="status=active",
    ),
    Access("create", None, "Condition", [("Condition", "c1")], {"p9"}, 201, policy=PATIENT_USER),
    Access("delete", None, "Patient", [("Patient", "p3")], set(), 200, policy=SYSTEM),
    Access("search-type", None, "Patient", [], set(), 401, description="needs a Bearer access token", address="::1"),
    Access("login", None, None, [], set(), 400, address="127.0.0.1", request_id="r3"),
    Access("login", None, None, [], set(), 401, address="127.0.0.1", request_id="r4", client_id="claimed"),
    Access("operation", "$everything", "Patient", [("Patient", "p4")], {"p4"}, 200, policy=SYSTEM),
    Access("import", None, None, [("Patient", "p5"), ("MedicationRequest", "m5")], {"p5"}, 200, policy=SYSTEM),
    Access("reindex", "reindex", None, [], set(), 0, policy=SYSTEM, counts={"Patient": 3, "Group": 1}),
]


@pytest.mark.parametrize("access", ACCESSES, ids=lambda a: f"{a.interaction}-{a.outcome}")
def test_the_trails_rows_equal_the_generic_extraction(live_server, access):
    definition = live_server.app.extensions["fhir.services"].registry.get("AuditEvent")
    event = {**audit_event(access, BASE), "id": "e1"}
    event["meta"] = {**event.get("meta", {}), "versionId": "1", "lastUpdated": "2026-12-01T00:00:00.000000Z"}
    expected = index_rows(definition, event, BASE)
    assert {k: sorted(map(repr, v)) for k, v in audit_event_rows(event).items()} == {
        k: sorted(map(repr, v)) for k, v in expected.items()
    }


@pytest.mark.parametrize("access", ACCESSES, ids=lambda a: f"{a.interaction}-{a.outcome}")
def test_a_rendered_event_is_the_json_the_write_path_prepares(live_server, access):
    services = live_server.app.extensions["fhir.services"]
    definition = services.registry.get("AuditEvent")
    rendered = rendered_event(access, BASE, "e1")
    assert rendered is not None
    prepared = write_path.prepare(
        services,
        definition,
        audit_event(access, BASE),
        "e1",
        1,
        Interaction.CREATE,
        "POST",
        access.recorded,
        holders=[],
    )
    assert _whole(*rendered) == orjson.loads(prepared.content)


def _whole(content: bytes, encoded: dict) -> dict:
    """An event as storage reads it back (audit_events.content_column): its content completed by its shape's."""
    _, _, shape = audit_events.row_values(None, encoded, None)
    assert shape.completes is not None
    return orjson.loads(content.decode()[:-1] + shape.members)


def test_an_absolute_reference_falls_back_to_the_generic_extraction():
    policy = AccessPolicy((), fhir_user="https://other.example/fhir/Practitioner/x", subject="s")
    assert audit_event_rows(audit_event(Access("read", outcome=200, policy=policy), BASE)) is None
    assert rendered_event(Access("read", outcome=200, policy=policy), BASE, "e1") is None


def _sorted(rows: dict) -> dict:
    return {kind: sorted(map(repr, values)) for kind, values in rows.items()}


def _extracted(definition, event: dict) -> dict:
    event = {**event, "id": "e1", "meta": {**event.get("meta", {}), "versionId": "1", "lastUpdated": event["recorded"]}}
    return index_rows(definition, event, BASE)


ids = st.sampled_from(["p1", "p2", "p3", "p9"])
accesses = st.builds(
    Access,
    st.sampled_from(["read", "vread", "search-type", "create", "delete", "history-instance", "operation", "login"]),
    st.sampled_from([None, "$everything"]),
    st.sampled_from([None, "Patient", "Condition"]),
    st.lists(st.tuples(st.sampled_from(["Patient", "Condition"]), ids), max_size=3),
    st.sets(ids, max_size=3),
    st.sampled_from([0, 200, 201, 403, 404, 500]),
    st.sampled_from([None, "not allowed"]),
    st.sampled_from([None, SYSTEM, PRACTITIONER, PATIENT_USER]),
    st.sampled_from([None, "claimed"]),
    st.sampled_from([None, "10.0.0.1", "::1"]),
    st.sampled_from(["-", "r1", "r2"]),
    st.just("GET"),
    st.just("/fhir/Patient"),
    st.sampled_from([None, "name=a"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(accesses, min_size=1, max_size=4))
def test_events_sharing_a_shape_are_stored_with_the_keys_of_the_generic_extraction(live_server, batch):
    """Each event of a batch (those of one client share a cached shape, serialized and its keys computed once) is
    stored as the JSON the write path prepares of it, with the keys and recorded instant that storage derives from
    the generic extraction's rows; shaping the next event changes none of an earlier one's."""
    services = live_server.app.extensions["fhir.services"]
    definition = services.registry.get("AuditEvent")
    shaped = [rendered_event(access, BASE, f"e{number}") for number, access in enumerate(batch)]
    for number, (access, rendered) in enumerate(zip(batch, shaped, strict=True)):
        assert rendered is not None
        content, encoded = rendered
        event = audit_event(access, BASE)
        prepared = write_path.prepare(
            services, definition, event, f"e{number}", 1, Interaction.CREATE, "POST", access.recorded, holders=[]
        )
        assert _whole(content, encoded) == orjson.loads(prepared.content)
        extracted = _extracted(definition, event)
        recorded, keys, shape = audit_events.row_values(None, encoded, None)
        assert recorded == audit_events.recorded(extracted, None)
        assert _expanded(keys, shape) == audit_events.key_set(extracted)


def _expanded(keys: str, shape: audit_events.Shape) -> frozenset[str]:
    """An event's keys with its shape's in place of the key naming it; checking that the shape holds only shared
    parameters' keys and the event only per-event ones."""
    own = frozenset(keys.split(audit_events.RS)) - shape.key
    shared = frozenset(shape.keys.split(audit_events.RS)) if shape.keys else frozenset()
    assert shape.key <= frozenset(keys.split(audit_events.RS))
    assert all(_param(key) in audit_events.OWN_PARAMS for key in own)
    assert all(_param(key) not in audit_events.OWN_PARAMS for key in shared)
    return own | shared


def _param(key: str) -> str:
    return key.split(audit_events.US)[1]
