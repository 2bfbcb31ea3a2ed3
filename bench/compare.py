#!/usr/bin/env python
"""Two versions of the server side by side: HTTP creates and reads at 8 clients, in alternating
rounds (A, B, A, B, ...) so that the machine's drifts hit both alike; medians and the ratio B / A.

    .venv/bin/python bench/compare.py BASE [HEAD] [--rounds 3] [--rows create,read]

BASE and HEAD are git revisions (HEAD also accepts "worktree": the files as they are now). Each round
starts a fresh database and server per version (bench/run.py's LocalServer) from a copy of that
version's server/, migrations/, resources/ and profiles/."""

from __future__ import annotations

import argparse
import io
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import run

WORKTREE = "worktree"


def checkout(revision: str, destination: Path) -> Path:
    """The code directories of `revision` under destination (git archive, no checkout needed)."""
    if revision == WORKTREE:
        return run.snapshot_code(destination)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, *run.CODE_DIRS],
        cwd=run.PROJECT_ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def measure(code_root: Path, rows: list[str], clients: int, duration: float) -> dict[str, dict]:
    cfg = run.parser().parse_args(
        [
            "--clients",
            str(clients),
            "--duration",
            str(duration),
            "--no-floors",
            "--http-rows",
            ",".join(rows),
            "--wait-quiet",
            "60",
        ]
    )
    cfg.code_root = code_root
    report = run.benchmark(cfg)
    return {kind: report["rows"][kind][str(clients)] for kind in rows}


def _cpu_us(cell: dict, part: str) -> float:
    return cell["cpu"][part] / max(1, cell["ops"]) * 1e6


def table(names: tuple[str, str], results: dict[str, dict[str, list[dict]]], rows: list[str]) -> str:
    a, b = names
    lines = [
        f"| row | {a}: ops/s median (runs) | {b}: ops/s median (runs) | ratio {b} / {a} |"
        f" server CPU µs {a} → {b} | PostgreSQL CPU µs {a} → {b} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in rows:
        cells_a, cells_b = results[a][kind], results[b][kind]
        rate_a = statistics.median(c["ops_per_s"] for c in cells_a)
        rate_b = statistics.median(c["ops_per_s"] for c in cells_b)
        runs = [", ".join(f"{c['ops_per_s']:,.0f}" for c in cells) for cells in (cells_a, cells_b)]
        server = [statistics.median(_cpu_us(c, "server_s") for c in cells) for cells in (cells_a, cells_b)]
        postgres = [statistics.median(_cpu_us(c, "postgres_s") for c in cells) for cells in (cells_a, cells_b)]
        lines.append(
            f"| HTTP {kind} | {rate_a:,.0f} ({runs[0]}) | {rate_b:,.0f} ({runs[1]}) | {rate_b / rate_a:.2f}x |"
            f" {server[0]:,.0f} → {server[1]:,.0f} | {postgres[0]:,.0f} → {postgres[1]:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("base", help="git revision of the baseline")
    p.add_argument("head", nargs="?", default=WORKTREE, help="git revision to compare (default: the worktree)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rows", type=lambda s: [k for k in s.split(",") if k], default=["create", "read"])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    names = (args.base, args.head)
    results: dict[str, dict[str, list[dict]]] = {name: {kind: [] for kind in args.rows} for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        roots = {name: checkout(name, Path(tmp) / f"v{i}") for i, name in enumerate(names)}
        for round_number in range(1, args.rounds + 1):
            for name in names:
                cells = measure(roots[name], args.rows, args.clients, args.duration)
                for kind, cell in cells.items():
                    results[name][kind].append(cell)
                summary = ", ".join(f"{kind} {cell['ops_per_s']:,.0f}/s" for kind, cell in cells.items())
                print(f"round {round_number}, {name}: {summary}", file=sys.stderr, flush=True)
    print(f"{args.rounds} alternating rounds, {args.clients} clients, {args.duration:g} s per measurement\n")
    print(table(names, results, args.rows))


if __name__ == "__main__":
    main()
