#!/usr/bin/env python
"""What one buffered AuditEvent (a read's) costs the audit writer, without the HTTP server: Python CPU to
shape it (`AuditTrail.prepared`: the BALP JSON, its index rows, the write path's prepare), Python CPU to
commit it, and PostgreSQL CPU to store it, in batches as the writer flushes them.

    .venv/bin/python bench/audit_flush.py [--events 5000] [--batch 100]

Creates a scratch database bench_audit_<pid> (dropped at the end) and the app exactly as a server worker
does (gc.freeze() after it); the events are those of reads by one system client of distinct patients.
Prints one Markdown table."""

from __future__ import annotations

import argparse
import gc
import os
import time

import psutil
import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BASE_URL = "http://127.0.0.1:8080/fhir"


def _postgres_cpu() -> float:
    total = 0.0
    for process in psutil.process_iter(["name"]):
        if "postgres" in (process.info["name"] or ""):
            try:
                total += sum(process.cpu_times()[:2])
            except psutil.Error:
                pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    name = f"bench_audit_{os.getpid()}"
    url = f"{args.admin_url.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    app = None
    try:
        from server import create_app
        from server.auth.policy import AccessPolicy
        from server.config import Settings
        from server.interactions import write_path
        from server.interactions.audit import Access
        from server.interactions.context import operator_context
        from server.storage.migrate import apply_migrations

        settings = Settings.from_env(env={"DATABASE_URL": url, "FHIR_BASE_URL": BASE_URL})
        apply_migrations(url, settings.migrations_dir)
        app = create_app(settings)
        trail = app.extensions["fhir.services"].audit
        tokens = app.extensions["fhir.tokens"]
        policy = AccessPolicy.from_claims(
            tokens.verify(tokens.mint("system/*.rs", 3600, subject="bench", client_id="bench")["access_token"])
        )
        accesses = [
            Access(
                "read",
                None,
                "Patient",
                [("Patient", f"p{i}")],
                {f"p{i}"},
                200,
                policy=policy,
                address="127.0.0.1",
                request_id=f"{i:032x}",
                method="GET",
                path=f"/fhir/Patient/p{i}",
            )
            for i in range(args.events)
        ]
        gc.freeze()  # as a server worker does once its app is built (server/wsgi.py)
        ctx = operator_context(trail.services, "audit")
        shape = commit = 0.0
        database_before = _postgres_cpu()
        for start in range(0, args.events, args.batch):
            began = time.process_time()
            prepared = [trail.prepared(access) for access in accesses[start : start + args.batch]]
            shaped = time.process_time()
            with write_path.transaction(ctx) as conn:
                write_path.commit(ctx, conn, prepared)
            shape, commit = shape + shaped - began, commit + time.process_time() - shaped
        database = _postgres_cpu() - database_before
        per_event = 1e6 / args.events
        print(f"# {args.events:,} read AuditEvents in batches of {args.batch}\n")
        print("| step | CPU µs per event |\n|---|---:|")
        print(f"| Python: shape (AuditTrail.prepared) | {shape * per_event:,.0f} |")
        print(f"| Python: commit (write_path.commit, COPY) | {commit * per_event:,.0f} |")
        print(f"| PostgreSQL (all its processes) | {database * per_event:,.0f} |")
    finally:
        if app is not None:
            app.extensions["fhir.services"].database.close()
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
