#!/usr/bin/env python
"""What the AuditEvent trail costs: HTTP creates and reads at 8 clients with auditing off and on
(FHIR_AUDIT=off|on), in alternating rounds (off, on, off, on, ...) on the same code, each on a fresh
server and database; medians and the ratio on / off (the target: at least 0.90, a cost of at most 10 %).

    .venv/bin/python bench/audit_cost.py [--rounds 4] [--duration 10] [--clients 8] [--rows create,read]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

import compare

SETTINGS = (("audit off", "off"), ("audit on", "on"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--rows", type=lambda s: [k for k in s.split(",") if k], default=["create", "read"])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--revision", default=compare.WORKTREE, help="git revision to measure (default: the worktree)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    names = tuple(name for name, _ in SETTINGS)
    results: dict[str, dict[str, list[dict]]] = {name: {kind: [] for kind in args.rows} for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        root = compare.checkout(args.revision, Path(tmp) / "code")
        for round_number in range(1, args.rounds + 1):
            for name, value in SETTINGS:
                os.environ["FHIR_AUDIT"] = value  # the server started by measure() inherits it
                cells = compare.measure(root, args.rows, args.clients, args.duration)
                for kind, cell in cells.items():
                    results[name][kind].append(cell)
                summary = ", ".join(f"{kind} {cell['ops_per_s']:,.0f}/s" for kind, cell in cells.items())
                print(f"round {round_number}, {name}: {summary}", file=sys.stderr, flush=True)
    print(
        f"{args.rounds} alternating rounds, {args.clients} clients, {args.duration:g} s per measurement;"
        " target: ratio audit on / audit off >= 0.90\n"
    )
    print(compare.table(names, results, args.rows))


if __name__ == "__main__":
    main()
