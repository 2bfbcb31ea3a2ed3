#!/usr/bin/env python
"""Which worker setting serves best at 8 clients: HTTP creates and reads for each
--workers × --threads combination, each run on a freshly started server and database.

    .venv/bin/python bench/sweep.py [--workers 2,3,4,5] [--threads 1,2,4] [--clients 8] [--duration 10] [--repeat 3]

Each combination runs --repeat times (a new server each time) and the table shows the median run
and the range: which worker accepts which of the clients' keep-alive connections is up to the
kernel, and an unlucky spread (all connections on one worker, which the GIL keeps to one core)
changes a run more than most settings do. "Busy workers" counts, per run, the workers that did at
least 10 % of the busiest one's work. Writes bench/results/sweep.json."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import run

HEADER = (
    "| workers | threads | creates/s median (range) | create p50 / p99 ms | reads/s median (range) |"
    " read p50 / p99 ms | server CPU µs per create / read | busy workers (create; read) |"
)


def _busy_workers(cell: dict) -> int:
    workers = cell["cpu"]["server_workers_s"]
    top = max(workers, default=0)
    return sum(1 for s in workers if top and s >= 0.1 * top)


def _median_run(cells: list[dict]) -> dict:
    return sorted(cells, key=lambda c: c["ops_per_s"])[(len(cells) - 1) // 2]


def summarize(workers: int, threads: int, runs: list[dict], clients: int) -> dict:
    out = {"workers": workers, "threads": threads}
    for kind in ("create", "read"):
        cells = [r["rows"][kind][str(clients)] for r in runs]
        median = _median_run(cells)
        out[kind] = {
            "ops_per_s_median": round(statistics.median(c["ops_per_s"] for c in cells), 1),
            "ops_per_s_runs": [c["ops_per_s"] for c in cells],
            "p50_ms": median["p50_ms"],
            "p99_ms": median["p99_ms"],
            "server_cpu_us": round(median["cpu"]["server_s"] / max(1, median["ops"]) * 1e6),
            "busy_workers_runs": [_busy_workers(c) for c in cells],
            "other_load_pct_max": round(max(run._other_pct(c) for c in cells), 1),
        }
    return out


def _row(s: dict) -> str:
    def rates(kind):
        k = s[kind]
        runs = k["ops_per_s_runs"]
        spread = f" ({min(runs):,.0f}–{max(runs):,.0f})" if len(runs) > 1 else ""
        noisy = "†" if k["other_load_pct_max"] > run.QUIET_PCT else ""
        return f"{k['ops_per_s_median']:,.0f}{spread}{noisy}"

    c, r = s["create"], s["read"]
    return (
        f"| {s['workers']} | {s['threads']} | {rates('create')} | {c['p50_ms']:.1f} / {c['p99_ms']:.0f} |"
        f" {rates('read')} | {r['p50_ms']:.2f} / {r['p99_ms']:.1f} | {c['server_cpu_us']:,} / {r['server_cpu_us']:,} |"
        f" {','.join(map(str, c['busy_workers_runs']))}; {','.join(map(str, r['busy_workers_runs']))} |"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=run._int_list, default=[2, 3, 4, 5])
    p.add_argument("--threads", type=run._int_list, default=[1, 2, 4])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        help="before each server start, wait up to this long for the machine to be quiet",
    )
    args = p.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (server, database) on SIGTERM too
    code_dir = tempfile.TemporaryDirectory(prefix="bench-code-")
    code_root = run.snapshot_code(Path(code_dir.name))  # one version of the code for the whole sweep
    summaries, raw = [], []
    for attempt in range(args.repeat):  # rounds over all settings, so slow drifts hit them all alike
        for workers in args.workers:
            for threads in args.threads:
                cfg = run.parser().parse_args(
                    [
                        "--workers",
                        str(workers),
                        "--threads",
                        str(threads),
                        "--clients",
                        str(args.clients),
                        "--duration",
                        str(args.duration),
                        "--seed",
                        str(args.seed),
                        "--no-floors",
                        "--http-rows",
                        "create,read",
                        "--generator",
                        args.generator,
                        "--wait-quiet",
                        str(args.wait_quiet),
                    ]
                )
                cfg.code_root = code_root
                result = run.benchmark(cfg)
                raw.append(result)
                c, r = result["rows"]["create"][str(args.clients)], result["rows"]["read"][str(args.clients)]
                print(
                    f"round {attempt + 1}: {workers} workers × {threads} threads: {c['ops_per_s']:,.0f} creates/s,"
                    f" {r['ops_per_s']:,.0f} reads/s",
                    file=sys.stderr,
                    flush=True,
                )
    for workers in args.workers:
        for threads in args.threads:
            runs = [r for r in raw if (r["server"]["workers"], r["server"]["threads"]) == (workers, threads)]
            summaries.append(summarize(workers, threads, runs, args.clients))

    first = raw[0]
    print(
        f"Sweep at {args.clients} clients, {args.duration:g} s per measurement, {args.repeat} run(s) per setting"
        f" (median, range); {os.cpu_count()} CPUs; generator: {first['generator']['label']};"
        f" payload {first['payload']['bytes']:,} bytes; code: {run._code_text(first['code'])}\n"
    )
    print(HEADER)
    print("|" + "---:|" * HEADER.count(" |"))
    for s in summaries:
        print(_row(s))
    if any(k["other_load_pct_max"] > run.QUIET_PCT for s in summaries for k in (s["create"], s["read"])):
        print(f"\n† in at least one run other processes used more than {run.QUIET_PCT} % of the machine")
    best_create = max(summaries, key=lambda s: s["create"]["ops_per_s_median"])
    best_read = max(summaries, key=lambda s: s["read"]["ops_per_s_median"])
    print(
        f"\nbest median for creates: {best_create['workers']} workers × {best_create['threads']} threads;"
        f" for reads: {best_read['workers']} workers × {best_read['threads']} threads"
    )
    run.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = run.RESULTS_DIR / "sweep.json"
    out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "clients": args.clients,
                "code": first["code"],
                "summaries": summaries,
                "runs": raw,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n(results written to {out})")
    code_dir.cleanup()


if __name__ == "__main__":
    main()
