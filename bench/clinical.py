#!/usr/bin/env python
"""Medication-safety benchmark: a CDS Hooks order-sign call with and without prefetch, Patient/$follow-up-gaps
and Group/$pdc, over a synthetic population, printed as one table.

    .venv/bin/python bench/clinical.py                      # 10,000 patients
    .venv/bin/python bench/clinical.py --patients 100000 --calls 200

A fresh database (bench_clinical_<pid>) on the PostgreSQL server of DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) is filled through the write path's COPY fast path: per
patient 2 MedicationRequests (psychiatric SCDs, half authored in the last 60 days), 4 MedicationDispenses of
an antipsychotic, 1 Condition and 1 Appointment; one Group holds every patient. The app runs in process
(Flask's test client: no network), so the figures are the server's own time. Dropped afterwards."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.fhir.interactions import Interaction  # noqa: E402
from server.interactions import write_path  # noqa: E402
from server.interactions.context import operator_context  # noqa: E402
from server.storage.migrate import apply_migrations  # noqa: E402

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PSYCH = ["312941", "310385", "349332", "312078", "312830", "197527", "200371", "993541"]
ANTIPSYCHOTIC = ["312078", "312830", "312743", "402131"]


def _records(rng: random.Random, number: int, today: date):
    pid = str(uuid.UUID(int=rng.getrandbits(128)))
    subject = {"reference": f"Patient/{pid}"}
    yield {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "birthDate": f"{rng.randrange(1940, 2005)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
    }
    for recent in (True, False):
        authored = today - timedelta(days=rng.randrange(0, 60) if recent else rng.randrange(200, 900))
        yield {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "authoredOn": authored.isoformat(),
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rng.choice(PSYCH)}]},
        }
    code, day = rng.choice(ANTIPSYCHOTIC), today - timedelta(days=300)
    for _ in range(4):
        day += timedelta(days=rng.randrange(20, 60))
        yield {
            "resourceType": "MedicationDispense",
            "status": "completed",
            "subject": subject,
            "whenHandedOver": day.isoformat(),
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
            "daysSupply": {"value": 30, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
        }
    yield {
        "resourceType": "Condition",
        "subject": subject,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}]},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
    }
    visit = today - timedelta(days=rng.randrange(0, 90))
    yield {
        "resourceType": "Appointment",
        "status": rng.choice(["booked", "fulfilled", "cancelled"]),
        "start": f"{visit.isoformat()}T09:00:00Z",
        "end": f"{visit.isoformat()}T09:30:00Z",
        "participant": [{"actor": subject, "status": "accepted"}],
    }


def load(services, patients: int, batch: int = 5000) -> list[str]:
    rng, today, now = random.Random(14), date.today(), datetime.now(UTC)
    ctx, pending, ids = operator_context(services, "bench-clinical"), [], []

    def flush():
        with write_path.transaction(ctx) as conn:
            write_path.commit(ctx, conn, pending)
        pending.clear()

    with tqdm(total=patients, desc="patients", unit="pt", file=sys.stderr) as progress:
        for number in range(patients):
            for resource in _records(rng, number, today):
                resource.setdefault("id", str(uuid.UUID(int=rng.getrandbits(128))))
                if resource["resourceType"] == "Patient":
                    ids.append(resource["id"])
                definition = services.registry.get(resource["resourceType"])
                pending.append(
                    write_path.prepare(
                        services, definition, resource, resource["id"], 1, Interaction.CREATE, "POST", now
                    )
                )
            if len(pending) >= batch:
                flush()
            progress.update(1)
        group = {
            "resourceType": "Group",
            "id": "bench-roster",
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{i}"}} for i in ids],
        }
        pending.append(
            write_path.prepare(
                services, services.registry.get("Group"), group, group["id"], 1, Interaction.CREATE, "POST", now
            )
        )
        flush()
    return ids


def _hook(pid: str, prefetch: dict | None) -> dict:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "312347"}]},
    }  # phenelzine
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": pid,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]},
        },
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def _prefetch(client, headers, pid: str) -> dict:
    keys = {
        "patient": f"Patient/{pid}",
        "medicationRequests": f"MedicationRequest?patient={pid}&status=active",
        "medicationStatements": f"MedicationStatement?patient={pid}&status=active",
        "medicationDispenses": f"MedicationDispense?patient={pid}&status=completed",
        "conditions": f"Condition?patient={pid}&clinical-status=active,recurrence,relapse",
    }
    return {k: client.get(f"/fhir/{q}", headers=headers).get_json(force=True) for k, q in keys.items()}


def _timed(fn, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        response = fn()
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--calls", type=int, default=100, help="CDS Hooks calls per variant")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each population operation")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name goes to stderr)")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"bench_clinical_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    try:
        settings = dataclasses.replace(Settings.from_env(env={}), database_url=url)
        apply_migrations(url, settings.migrations_dir)
        app = create_app(settings)
        services = app.extensions["fhir.services"]
        ids = load(services, args.patients)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        token = app.extensions["fhir.tokens"].mint("system/*.cruds", 3600, subject="bench", client_id="bench")
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        client, rng = app.test_client(), random.Random(3)
        sample = [rng.choice(ids) for _ in range(args.calls)]
        prefetched = {pid: _prefetch(client, headers, pid) for pid in set(sample)}
        url_sign = "/cds-services/medication-safety-order-sign"
        it = iter(sample * 2)
        without = _timed(lambda: client.post(url_sign, json=_hook(next(it), None), headers=headers), args.calls)
        it = iter(sample * 2)
        with_pf = _timed(
            lambda: client.post(url_sign, json=_hook((p := next(it)), prefetched[p]), headers=headers), args.calls
        )
        gaps = _timed(
            lambda: client.get("/fhir/Patient/$follow-up-gaps?started-within=30&follow-up-within=30", headers=headers),
            args.repeats,
        )
        pdc = _timed(
            lambda: client.get("/fhir/Group/bench-roster/$pdc?class=antipsychotic", headers=headers), args.repeats
        )
        rows = [
            ("CDS order-sign, with prefetch", with_pf),
            ("CDS order-sign, no prefetch (reads)", without),
            (f"Patient/$follow-up-gaps ({args.patients} patients)", gaps),
            (f"Group/$pdc antipsychotic ({args.patients} members)", pdc),
        ]
        print(f"\n{'operation':52} {'n':>5} {'p50 ms':>9} {'p95 ms':>9}")
        for label, times in rows:
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            print(f"{label:52} {len(times):5d} {statistics.median(times):9.1f} {p95:9.1f}")
        if services.audit is not None:
            services.audit.close()  # its writer stores what is buffered while the pool is still open
        services.database.close()
    finally:
        if args.keep:
            print(f"kept database {name}", file=sys.stderr)
        else:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
