"""The floors: what a create or a read costs at least, measured without HTTP, Flask or the server.

- insert: psycopg INSERT of the stored JSON (the Patient with id and meta, as the server stores it)
  into a scratch table (id text primary key, content jsonb), one row per transaction (autocommit),
  the bytes passed straight through as jsonb like the server does.
- select: psycopg SELECT content::text FROM resources by primary key (resource_type, id), a random
  id among the seeded Patients, text decoded to str like the server does.
- validator: server.validation.Validator.validate("Patient", body): exactly what a create runs
  before it stores.
- model: fhir.resources R4B Patient.model_validate(body) alone.

Each runs in N processes (N = the number of HTTP clients), each with its own connection."""

from __future__ import annotations

import os
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
from harness import Measurement, run_parallel
from payload import PATIENT
from psycopg.types.json import Jsonb

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCRATCH_TABLE = f"bench_floor_insert_{os.getpid()}"


def stored_json() -> bytes:
    """The JSON the server stores for a created Patient: the body plus id and meta."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps({**PATIENT, "id": str(uuid.uuid4()), "meta": {"versionId": "1", "lastUpdated": now}})


def _as_is(content: bytes) -> bytes:
    return content


def create_scratch_table(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")
        conn.execute(f"CREATE TABLE {SCRATCH_TABLE} (id text PRIMARY KEY, content jsonb NOT NULL)")


def drop_scratch_table(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}")


def _insert_op(database_url: str):
    conn = psycopg.connect(database_url, autocommit=True)
    content = Jsonb(stored_json(), dumps=_as_is)
    query = f"INSERT INTO {SCRATCH_TABLE} (id, content) VALUES (%s, %s)"

    def op() -> bool:
        conn.execute(query, (str(uuid.uuid4()), content))
        return True

    op.close = conn.close
    return op


def _select_op(database_url: str, ids: list[str]):
    conn = psycopg.connect(database_url, autocommit=True)
    rng = random.Random(os.getpid())
    query = "SELECT content::text FROM resources WHERE resource_type = %s AND id = %s"

    def op() -> bool:
        return conn.execute(query, ("Patient", rng.choice(ids))).fetchone() is not None

    op.close = conn.close
    return op


def _validator_op():
    from server.validation import Validator

    validator = Validator(PROJECT_ROOT / "profiles")
    body = orjson.loads(orjson.dumps(PATIENT))

    def op() -> bool:
        validator.validate("Patient", body)
        return True

    return op


def _model_op():
    from fhir.resources.R4B import get_fhir_model_class

    model = get_fhir_model_class("Patient")
    body = orjson.loads(orjson.dumps(PATIENT))

    def op() -> bool:
        model.model_validate(body)
        return True

    return op


def measure(
    kind: str, processes: int, duration: float, database_url: str, ids: list[str], on_start=None, on_end=None
) -> Measurement:
    factory, args = {
        "insert": (_insert_op, (database_url,)),
        "select": (_select_op, (database_url, ids)),
        "validator": (_validator_op, ()),
        "model": (_model_op, ()),
    }[kind]
    return run_parallel(processes, factory, args, duration, on_start, on_end)
