#!/usr/bin/env python
"""Where the whole server's CPU goes under load: the real `fhir-server serve` (granian, the edge bridge,
the middleware, the audit writer thread), driven by wrk, sampled by py-spy in every worker thread.

    .venv/bin/python bench/profile_server.py [--kind read|create] [--duration 15] [--top 40]

Starts a server on a fresh database (bench/run.py's LocalServer), seeds Patients, runs wrk at 8 clients
while `py-spy record --format raw` samples the worker processes (idle threads left out), and prints the
share of samples by module group and the top functions by inclusive and self share. Needs py-spy
(`.venv/bin/pip install py-spy`) and wrk (`apt-get install -y wrk`)."""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import loadgen
import psutil
import run

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def _group(file: str) -> str:
    """A frame's file as a group name: server.<package>, a site-package's name, or stdlib."""
    path = Path(file)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if "server" in parts:
        index = len(parts) - 1 - parts[::-1].index("server")
        return ".".join(parts[index : index + 2]).removesuffix(".py")
    return "stdlib:" + path.stem


def _stacks(raw: Path):
    """(frames outermost first, samples) from py-spy's raw (collapsed) output."""
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def report(raw: Path, top: int) -> str:
    by_group: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _stacks(raw):
        total += count
        names = []
        for frame in frames:
            match = FRAME.match(frame.strip())
            names.append(f"{match['function']} ({_group(match['file'])})" if match else frame.strip())
        if not names:
            continue
        self_time[names[-1]] += count
        last = FRAME.match(frames[-1].strip())
        by_group[_group(last["file"]) if last else "?"] += count
        for name in set(names):
            inclusive[name] += count
    lines = [f"{total} samples", "", "## self share by group", ""]
    lines += [f"  {n / total:6.1%}  {group}" for group, n in by_group.most_common(top)]
    lines += ["", "## inclusive share (top functions)", ""]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "## self share (top functions)", ""]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in self_time.most_common(top)]
    return "\n".join(lines)


def thread_cpu(pids: list[int]) -> dict[str, float]:
    """CPU seconds (user + system) per thread name over the given processes, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: collections.Counter[str] = collections.Counter()
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            name = re.sub(r"[-_]?\d+$", "", name)
            totals[f"{name} (user)"] += int(fields[11]) / ticks
            totals[f"{name} (system)"] += int(fields[12]) / ticks
    return dict(totals)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--kind", choices=("read", "create", "healthz"), default="read")
    args.add_argument("--duration", type=float, default=15)
    args.add_argument("--clients", type=int, default=8)
    args.add_argument("--workers", type=int, default=1)
    args.add_argument("--threads", type=int, default=4)
    args.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    args.add_argument("--top", type=int, default=40)
    args.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    cfg = args.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is needed (.venv/bin/pip install py-spy)")
    if loadgen.wrk_path() is None:
        sys.exit("wrk is needed (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        server = run.LocalServer(cfg.admin_url, cfg.workers, cfg.threads, Path(tmp, "server.log"))
        with server:
            target = loadgen.Target(server.base_url, server.token)
            ids = loadgen.seed(target, 500)
            workers = [p.pid for p in psutil.Process(server.proc.pid).children(recursive=True)] or [server.proc.pid]
            raw = Path(tmp, "profile.txt")
            spies = [
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--format",
                        "raw",
                        "--rate",
                        str(cfg.rate),
                        "--duration",
                        str(int(cfg.duration)),
                        "--pid",
                        str(pid),
                        "--output",
                        f"{raw}.{pid}",
                        "--nonblocking",
                        *(["--gil"] if cfg.gil else []),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid in workers
            ]
            before = thread_cpu(workers)
            measured = loadgen.wrk_http(cfg.kind, target, cfg.clients, cfg.duration, ids)
            after = thread_cpu(workers)
            for spy in spies:
                spy.wait(timeout=60)
            raw.write_text(
                "".join(Path(f"{raw}.{pid}").read_text() for pid in workers if Path(f"{raw}.{pid}").exists())
            )
            print(f"# {cfg.kind}: {measured.rate:,.0f}/s at {cfg.clients} clients, {len(workers)} worker process(es)\n")
            ops = measured.rate * measured.seconds
            print("## server CPU per request by thread (µs)\n")
            for name in sorted(after, key=lambda n: before.get(n, 0) - after[n]):
                print(f"  {(after[name] - before.get(name, 0)) / ops * 1e6:7.0f}  {name}")
            print()
            print(report(raw, cfg.top))


if __name__ == "__main__":
    main()
