#!/usr/bin/env python
"""Transactions and bulk import, one command, one table:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_import_transaction.py

Creates a scratch database on DATABASE_URL's server (dropped at the end), starts `fhir-server serve`
on it, then measures
  - POST /fhir with a transaction Bundle of 100 entries (50 Patients + 50 MedicationRequests linked
    by urn:uuid): latency median and p99;
  - `fhir-server import`'s fast path (server.interactions.bulk_import, in this process) over an
    NDJSON file of MedicationRequests: MedicationRequests/s, validation included;
  - the baseline: validation alone (the server's Validator, one process) over the same records,
    measured in this same process. Target: import >= 2,000 MedicationRequests/s on 2 cores."""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from server import build_services  # noqa: E402
from server.config import Settings  # noqa: E402
from server.interactions.bulk_import import import_paths  # noqa: E402
from server.storage.database import Database  # noqa: E402
from server.storage.migrate import apply_migrations  # noqa: E402
from tests.factories import MRN, medication_request, patient  # noqa: E402

FHIR_SERVER = Path(sys.executable).parent / "fhir-server"
TARGET_IMPORT_PER_S = 2000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(server_url: str) -> tuple[str, str]:
    name = f"fhir_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    return name, psycopg.conninfo.make_conninfo(**info)


def _drop(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _transaction_bundle(tag: str) -> bytes:
    entries = []
    for i in range(50):
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {"fullUrl": patient_url, "resource": patient(f"{tag}-{i}"), "request": {"method": "POST", "url": "Patient"}}
        )
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": medication_request("x", subject={"reference": patient_url}),
                "request": {"method": "POST", "url": "MedicationRequest"},
            }
        )
    return orjson.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries})


def bench_transactions(env: dict, count: int) -> list[float]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    env = {**env, "FHIR_BASE_URL": base, "FHIR_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [str(FHIR_SERVER), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        token = json.loads(
            subprocess.run(
                [str(FHIR_SERVER), "token", "--scope", "system/*.cruds"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["access_token"]
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/fhir+json",
            "Prefer": "return=minimal",
        }
        latencies = []
        for n in range(count + 3):
            body = _transaction_bundle(f"tx{n}-{secrets.token_hex(3)}")
            started = time.perf_counter()
            conn.request("POST", "/fhir", body, headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"transaction failed with {response.status}")
            if n >= 3:  # the first ones warm the workers up
                latencies.append(elapsed)
        return latencies
    finally:
        server.terminate()
        server.wait(30)


def _ndjson(directory: Path, records: int) -> tuple[Path, Path, list[bytes]]:
    patients = directory / "patients.ndjson"
    requests_file = directory / "medication_requests.ndjson"
    ids = [f"bench-{i}" for i in range(200)]
    patients.write_bytes(b"".join(orjson.dumps({**patient(f"b{i}"), "id": pid}) + b"\n" for i, pid in enumerate(ids)))
    lines = [
        orjson.dumps(medication_request(ids[i % len(ids)], identifier=[{"system": MRN, "value": f"rx-{i}"}]))
        for i in range(records)
    ]
    requests_file.write_bytes(b"\n".join(lines) + b"\n")
    return patients, requests_file, lines


def bench_import(settings: Settings, records: int) -> dict:
    database = Database(settings.database_url, pool_size=1)
    database.open()
    try:
        services = build_services(settings, database)
        with tempfile.TemporaryDirectory() as directory:
            patients, requests_file, lines = _ndjson(Path(directory), records)
            import_paths(services, [patients])
            with database.connection() as conn:
                backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            cpu_before = _cpu_seconds(backend)
            started = time.perf_counter()
            summary = import_paths(services, [requests_file])
            import_seconds = time.perf_counter() - started
            import_cpu = [after - before for after, before in zip(_cpu_seconds(backend), cpu_before, strict=False)]
            validator = services.validator
            started = time.perf_counter()
            for line in lines:
                validator.validate("MedicationRequest", orjson.loads(line))
            validation_seconds = time.perf_counter() - started
    finally:
        database.close()
    if summary.failed:
        raise SystemExit(f"import failed for {summary.failed} records: {summary.failures[:3]}")
    return {
        "stored": summary.stored,
        "import_per_s": summary.stored / import_seconds,
        "validation_per_s": len(lines) / validation_seconds,
        "cpu_ms_per_record": sum(import_cpu) / summary.stored * 1000,
        "cpu_split_ms": [part / summary.stored * 1000 for part in import_cpu],
    }


def _cpu_seconds(backend_pid: int) -> tuple[float, float, float]:
    """CPU used so far by the validating workers (this process's reaped children), this process
    and the PostgreSQL backend serving the import (same machine): load-independent cost of the import."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend = 0.0
    try:
        fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        pass  # PostgreSQL on another machine: its CPU is not counted
    return children.ru_utime + children.ru_stime, own.ru_utime + own.ru_stime, backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=30, help="transactions of 100 entries to time")
    parser.add_argument("--records", type=int, default=20000, help="MedicationRequests to import")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    name, url = _database(server_url)
    try:
        apply_migrations(url, Settings.from_env(env={}).migrations_dir)
        load_before = os.getloadavg()[0]
        latencies = sorted(bench_transactions({**os.environ, "DATABASE_URL": url}, args.transactions))
        settings = dataclasses.replace(Settings.from_env(env={}), database_url=url)
        imported = bench_import(settings, args.records)
        load_after = os.getloadavg()[0]
    finally:
        _drop(server_url, name)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    rows = [
        (
            "transaction, 100 entries (50 Patient + 50 MedicationRequest, urn:uuid): median",
            f"{statistics.median(latencies) * 1000:.0f} ms",
        ),
        ("transaction, 100 entries: p99", f"{p99 * 1000:.0f} ms"),
        ("transaction, 100 entries: entries/s at the median", f"{100 / statistics.median(latencies):.0f}"),
        (
            f"import, {imported['stored']} MedicationRequests (validated, {os.cpu_count()} workers)",
            f"{imported['import_per_s']:.0f} /s",
        ),
        (
            "baseline: validation alone, one process (same records, same process)",
            f"{imported['validation_per_s']:.0f} /s",
        ),
        ("import vs validation alone", f"{imported['import_per_s'] / imported['validation_per_s'] * 100:.0f} %"),
        (
            "import CPU per MedicationRequest (workers + main + PostgreSQL backend)",
            f"{imported['cpu_ms_per_record']:.2f} ms",
        ),
        (
            "  of which workers / main process / PostgreSQL backend",
            " / ".join(f"{part:.2f}" for part in imported["cpu_split_ms"]) + " ms",
        ),
        (
            f"import projected on {os.cpu_count()} idle cores (cores / CPU per record)",
            f"{os.cpu_count() / imported['cpu_ms_per_record'] * 1000:.0f} /s",
        ),
        (
            f"import target: >= {TARGET_IMPORT_PER_S} /s",
            "met" if imported["import_per_s"] >= TARGET_IMPORT_PER_S else "NOT met",
        ),
        (
            "machine load average (1 min) before / after; cores",
            f"{load_before:.1f} / {load_after:.1f}; {os.cpu_count()}",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-{'-' * 12}")
    for label, value in rows:
        print(f"{label.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
