#!/usr/bin/env python
"""Search benchmark: throughput and latency of representative searches over HTTP at two database
sizes, side by side in one run, and the ratio of their medians.

    .venv/bin/python bench/search.py                     # 10k and 1M resources (the 1M load takes ~10 min)
    .venv/bin/python bench/search.py --sizes 10000,100000 --duration 5

Each size gets a fresh database (bench_<pid>) filled through the COPY fast path with synthetic
records (tests/synthetic.py: per patient 4 MedicationRequests, 1 MedicationStatement, 2 Conditions,
2 Appointments), a `fhir-server serve` on it, and the same searches: rates at 8 clients, p50/p99 at 1."""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import random
import sys
from pathlib import Path

import psycopg
from tqdm import tqdm

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the project, for the synthetic loader

from harness import run_parallel  # noqa: E402
from loadgen import Target  # noqa: E402
from run import LocalServer  # noqa: E402

from server import build_services  # noqa: E402
from server.config import Settings  # noqa: E402
from server.storage.database import Database  # noqa: E402
from tests import synthetic  # noqa: E402

MRN = "http://hospital.example/mrn"
SEARCHES = {
    "patient+status": "MedicationRequest?patient={patient}&status=active",
    "patient+intent+status (US Core)": "MedicationRequest?patient={patient}&intent=order&status=active,on-hold",
    "identifier": "Patient?identifier=" + MRN + "|{mrn}",
    "name (string prefix)": "Patient?name=okaf&birthdate={birthdate}",
    "authoredon range": "MedicationRequest?patient={patient}&authoredon=ge2021-01-01&authoredon=lt2023-01-01",
    "chain patient.identifier": "Condition?patient.identifier=" + MRN + "|{mrn}",
    "_has": "Patient?_has:MedicationRequest:patient:status=on-hold&identifier=" + MRN + "|{mrn}",
    "_include": "MedicationRequest?patient={patient}&_include=MedicationRequest:patient",
    "compartment": "Patient/{patient}/Condition",
}


def _samples(database_url: str, count: int = 200) -> list[dict]:
    """Real patients of the loaded data, to fill the query templates."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, content->'identifier'->0->>'value', content->>'birthDate' FROM resources"
            " WHERE resource_type = 'Patient' ORDER BY random() LIMIT %s",
            (count,),
        ).fetchall()
    return [{"patient": r[0], "mrn": r[1], "birthdate": r[2]} for r in rows]


def _search_op(target: Target, template: str, samples: list[dict]):
    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    headers = target.headers(body=False)
    rng = random.Random()

    def op() -> bool:
        conn.request("GET", f"{target.path}/{template.format(**rng.choice(samples))}", headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status == 200

    return op


def _load(server: LocalServer, size: int) -> int:
    settings = dataclasses.replace(
        Settings.from_env(env={}), database_url=server.database_url, base_url=server.base_url
    )
    database = Database(server.database_url, pool_size=2)
    database.open()
    try:
        with tqdm(total=size, unit="res", file=sys.stderr, desc=f"load {size:,}") as bar:
            loaded = synthetic.load(build_services(settings, database), size, on_batch=bar.update)
        with database.connection() as conn:
            conn.execute("VACUUM ANALYZE")
    finally:
        database.close()
    return loaded


def measure_size(size: int, cfg) -> dict:
    log = BENCH_DIR / "results" / f"search-server-{size}.log"
    with LocalServer(cfg.admin_url, cfg.workers, cfg.threads, log) as server:
        loaded = _load(server, size)
        samples = _samples(server.database_url)
        target = Target(server.base_url, server.token)
        rows = {}
        for name, template in SEARCHES.items():
            many = run_parallel(cfg.clients, _search_op, (target, template, samples), cfg.duration)
            one = run_parallel(1, _search_op, (target, template, samples), cfg.duration)
            rows[name] = {
                "rps": many.rate,
                "errors": many.errors + one.errors,
                "p50_ms": one.p50_ms,
                "p99_ms": one.p99_ms,
            }
            print(
                f"  {size:>9,} {name:<34} {many.rate:8.0f}/s  p50 {one.p50_ms:6.2f} ms  p99 {one.p99_ms:6.2f} ms",
                file=sys.stderr,
            )
    return {"resources": loaded, "rows": rows}


def render(results: dict[int, dict], clients: int) -> str:
    sizes = sorted(results)
    head = " | ".join(f"{s:,}: req/s @{clients} | p50 ms | p99 ms" for s in sizes)
    lines = [f"| search | {head} | p50 ratio {sizes[-1]:,} / {sizes[0]:,} |", "|---" * (2 + 3 * len(sizes)) + "|"]
    for name in SEARCHES:
        cells = []
        for size in sizes:
            row = results[size]["rows"][name]
            cells += [f"{row['rps']:.0f}", f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}"]
        ratio = results[sizes[-1]]["rows"][name]["p50_ms"] / results[sizes[0]]["rows"][name]["p50_ms"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    cfg = parser.parse_args()
    results = {size: measure_size(size, cfg) for size in (int(s) for s in cfg.sizes.split(","))}
    print(render(results, cfg.clients))
    errors = sum(row["errors"] for r in results.values() for row in r["rows"].values())
    print(f"\nerrors: {errors}; targets: p50 at the largest size <= 1.5x the smallest; patient+status >= 300 req/s")
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    (BENCH_DIR / "results" / "search.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
