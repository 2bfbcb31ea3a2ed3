"""The one write path: every kind of write reaches the write listeners, inside the transaction
(before commit) and after it. A write that went around write_path.commit would not be seen here
(and an import of storage's write modules outside it breaks tests/test_layers.py)."""

from __future__ import annotations

import threading

import orjson
import psycopg
import pytest

from server.fhir.interactions import Interaction
from server.interactions import write_path
from server.interactions.bulk_import import import_paths
from server.interactions.reindex import reindex
from tests.factories import MRN, medication_request, patient


class Recording(write_path.WriteListener):
    def __init__(self):
        self.before: list[tuple[str, str, str, bool]] = []
        self.after: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def before_commit(self, ctx, conn, changes):
        with self.lock:
            self.before += [
                (
                    c.interaction,
                    c.resource_type,
                    c.id,
                    conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE,
                )
                for c in changes
            ]
        return []

    def after_commit(self, ctx, changes):
        with self.lock:
            self.after += [(c.interaction, c.resource_type, c.id) for c in changes]

    def saw(self, interaction: str, resource_type: str, id: str) -> bool:
        return (
            any(b[:3] == (interaction, resource_type, id) for b in self.before)
            and (interaction, resource_type, id) in self.after
        )


@pytest.fixture
def recording(live_server):
    listeners = live_server.app.extensions["fhir.services"].write_listeners
    listener = Recording()
    listeners.append(listener)
    yield listener
    listeners.remove(listener)


def _bundle(kind: str, *entries) -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def test_every_kind_of_write_is_seen_by_a_write_listener_before_and_after_commit(
    client, recording, unique, live_server, tmp_path
):
    created = client.create(patient(unique))["id"]
    assert recording.saw("create", "Patient", created)
    referring = client.create(medication_request(created))["id"]  # with a reference: in a transaction
    assert recording.saw("create", "MedicationRequest", referring)
    assert client.put(f"Patient/{created}", json={**patient(unique, family="Roe"), "id": created}).status_code == 200
    assert recording.saw("update", "Patient", created)
    response = client.patch(
        f"Patient/{created}",
        data=orjson.dumps([{"op": "replace", "path": "/gender", "value": "male"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert recording.saw("patch", "Patient", created)

    conditional = client.post(
        "Patient", json=patient(f"{unique}-c"), headers={"If-None-Exist": f"identifier={MRN}|{unique}-c"}
    )
    assert conditional.status_code == 201
    assert recording.saw("create", "Patient", conditional.json()["id"])
    updated = client.put("Patient", params={"identifier": f"{MRN}|{unique}-u"}, json=patient(f"{unique}-u"))
    assert updated.status_code == 201
    assert recording.saw("update", "Patient", updated.json()["id"])
    patched = client.patch(
        "Patient",
        params={"identifier": f"{MRN}|{unique}-u"},
        data=orjson.dumps([{"op": "replace", "path": "/gender", "value": "other"}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert recording.saw("patch", "Patient", updated.json()["id"])
    assert client.delete("Patient", params={"identifier": f"{MRN}|{unique}-u"}).status_code in (200, 204)
    assert recording.saw("delete", "Patient", updated.json()["id"])

    assert client.delete(f"MedicationRequest/{referring}").status_code in (200, 204)
    assert recording.saw("delete", "MedicationRequest", referring)

    batch = client.post(
        client.base_url,
        json=_bundle("batch", {"request": {"method": "POST", "url": "Patient"}, "resource": patient(f"{unique}-b")}),
    )
    assert batch.status_code == 200, batch.text
    batch_id = batch.json()["entry"][0]["response"]["location"].split("/")[1]
    assert recording.saw("create", "Patient", batch_id)
    transaction = client.post(
        client.base_url,
        json=_bundle(
            "transaction",
            {
                "fullUrl": "urn:uuid:8c5f8e40-5f2a-4c27-9d67-6e1b2f0a1c11",
                "request": {"method": "POST", "url": "Patient"},
                "resource": patient(f"{unique}-t"),
            },
            {"request": {"method": "PUT", "url": f"Patient/{created}"}, "resource": {**patient(unique), "id": created}},
        ),
    )
    assert transaction.status_code == 200, transaction.text
    transaction_id = transaction.json()["entry"][0]["response"]["location"].split("/")[1]
    assert recording.saw("create", "Patient", transaction_id)
    assert recording.saw("update", "Patient", created)

    services = live_server.app.extensions["fhir.services"]
    path = tmp_path / "import.ndjson"
    path.write_bytes(orjson.dumps({**patient(f"{unique}-i"), "id": f"imp-{unique}"}) + b"\n")
    assert import_paths(services, [path], workers=1).stored == 1
    assert recording.saw("import", "Patient", f"imp-{unique}")
    assert reindex(services, batch_size=5000) >= 1
    assert recording.saw("reindex", "Patient", f"imp-{unique}")

    # the write path is told the interaction as the Interaction enum, never a bare string
    assert {type(b[0]) for b in recording.before} | {type(a[0]) for a in recording.after} == {Interaction}

    in_transaction = {b[:3]: b[3] for b in recording.before}
    assert in_transaction[("update", "Patient", created)] and in_transaction[("create", "MedicationRequest", referring)]
    # a create without references is one autocommit statement: what before_commit returns is stored in it
    assert not in_transaction[("create", "Patient", created)]


def test_a_write_in_a_transaction_outside_the_write_path_is_refused(live_server, unique):
    services = live_server.app.extensions["fhir.services"]
    from server.interactions.context import operator_context

    ctx = operator_context(services, "test")
    version = write_path.prepare(
        services, services.registry.get("Patient"), patient(unique), f"wp-{unique}", 1, Interaction.CREATE, "POST"
    )
    with services.database.transaction() as conn, pytest.raises(RuntimeError, match="write_path.transaction"):
        write_path.commit(ctx, conn, [version])


def test_a_before_commit_failure_rolls_the_write_back(client, live_server, unique):
    class Failing(write_path.WriteListener):
        def before_commit(self, ctx, conn, changes):
            raise RuntimeError("listener failed")

    listeners = live_server.app.extensions["fhir.services"].write_listeners
    listeners.append(failing := Failing())
    try:
        response = client.post("Patient", json=patient(unique))
    finally:
        listeners.remove(failing)
    assert response.status_code == 500
    assert client.get("Patient", params={"identifier": f"{MRN}|{unique}"}).json()["total"] == 0
