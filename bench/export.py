#!/usr/bin/env python
"""Bulk Data $export benchmark: resources/s and peak RSS of an export of N synthetic resources (mixed
types, tests/synthetic.py's COPY loader), from the CLI and from a running server, and the throughput a
concurrent search load keeps while a server export runs.

    .venv/bin/python bench/export.py                      # 1,000,000 resources (the load takes ~10 min)
    .venv/bin/python bench/export.py --size 100000 --duration 5

Targets (issue 12): >= 20,000 resources/s, every process < 300 MB RSS, the search load loses <= 20 %."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the project, for the synthetic loader

from harness import run_parallel  # noqa: E402
from loadgen import Target  # noqa: E402
from run import LocalServer, _server_process  # noqa: E402
from search import _load, _samples, _search_op  # noqa: E402

SEARCH = "MedicationRequest?patient={patient}&status=active"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _peak_rss_mb(pids: list[int]) -> dict[int, float]:
    """VmHWM (the peak resident set) of each live process."""
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return peaks


def _tree(pid: int) -> list[int]:
    """pid and its descendants (the granian workers)."""
    found, frontier = [pid], [pid]
    while frontier:
        current = frontier.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        frontier += [int(c) for c in children]
    return found


def cli_export(server: LocalServer) -> dict:
    command, extra_env, cwd = _server_process(None)
    env = {
        **os.environ,
        **extra_env,
        "DATABASE_URL": server.database_url,
        "FHIR_BASE_URL": server.base_url,
        "FHIR_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory(prefix="export-bench-") as out:
        started = time.monotonic()
        done = subprocess.run(command + ["export", "--out", out], env=env, capture_output=True, text=True, cwd=cwd)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"fhir-server export failed: {done.stderr[-2000:]}")
        manifest = json.loads(done.stdout)
    exported = sum(o["count"] for o in manifest["output"])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    return {"resources": exported, "seconds": seconds, "per_second": exported / seconds, "peak_rss_mb": peak}


def server_export(server: LocalServer, session: requests.Session) -> dict:
    started = time.monotonic()
    kick = session.get(f"{server.base_url}/$export", headers=ASYNC)
    kick.raise_for_status()
    status_url = kick.headers["Content-Location"]
    while (status := session.get(status_url)).status_code == 202:
        time.sleep(0.2)
    seconds = time.monotonic() - started
    status.raise_for_status()
    manifest = status.json()
    exported = sum(o["count"] for o in manifest["output"])
    downloaded = 0
    for item in manifest["output"][:1]:
        with session.get(item["url"], stream=True) as response:
            for chunk in response.iter_content(1 << 20):
                downloaded += len(chunk)
    session.delete(status_url)
    return {"resources": exported, "seconds": seconds, "per_second": exported / seconds}


def concurrent_load(server: LocalServer, session: requests.Session, target: Target, samples, cfg) -> dict:
    baseline = run_parallel(cfg.clients, _search_op, (target, SEARCH, samples), cfg.duration)
    stop, exports = threading.Event(), []

    def keep_exporting():
        while not stop.is_set():
            exports.append(server_export(server, session))

    runner = threading.Thread(target=keep_exporting, daemon=True)
    loaded = run_parallel(
        cfg.clients, _search_op, (target, SEARCH, samples), cfg.duration, on_start=runner.start, on_end=stop.set
    )
    runner.join()
    return {
        "baseline_rps": baseline.rate,
        "during_export_rps": loaded.rate,
        "loss_pct": 100 * (1 - loaded.rate / baseline.rate) if baseline.rate else None,
        "errors": baseline.errors + loaded.errors,
        "exports_during": len(exports),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    cfg = parser.parse_args()
    log = BENCH_DIR / "results" / "export-server.log"
    with LocalServer(cfg.admin_url, cfg.workers, cfg.threads, log) as server:
        loaded = _load(server, cfg.size)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {server.token}"
        cli = cli_export(server)
        served = server_export(server, session)
        server_peaks = _peak_rss_mb(_tree(server.proc.pid))
        load = concurrent_load(
            server, session, Target(server.base_url, server.token), _samples(server.database_url), cfg
        )
        with psycopg.connect(server.database_url) as conn:
            by_type = dict(conn.execute("SELECT resource_type, count(*) FROM resources GROUP BY 1").fetchall())
    results = {
        "loaded": loaded,
        "by_type": by_type,
        "cli": cli,
        "server": served,
        "server_peak_rss_mb": max(server_peaks.values(), default=None),
        "load": load,
    }
    print(f"| export of {loaded:,} resources | resources/s | seconds | peak RSS MB |\n|---|---|---|---|")
    print(f"| fhir-server export (CLI) | {cli['per_second']:,.0f} | {cli['seconds']:.1f} | {cli['peak_rss_mb']:.0f} |")
    print(
        f"| server $export (worker thread) | {served['per_second']:,.0f} | {served['seconds']:.1f} |"
        f" {results['server_peak_rss_mb'] or 0:.0f} (largest server process) |"
    )
    print(f"\n| search `{SEARCH}` @{cfg.clients} | req/s |\n|---|---|")
    print(
        f"| alone | {load['baseline_rps']:.0f} |\n| during exports ({load['exports_during']}) |"
        f" {load['during_export_rps']:.0f} ({load['loss_pct']:.1f} % less) |"
    )
    print(f"\nerrors: {load['errors']}; targets: >= 20,000 resources/s, < 300 MB per process, <= 20 % loss")
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    (BENCH_DIR / "results" / "export.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
