"""Where the CPU went during one measurement: the FHIR server's processes, PostgreSQL's, the
benchmark's own (load generator or floor processes), and the whole machine's busy share.

Linux only (/proc). Server and PostgreSQL time comes from /proc/<pid>/stat of processes alive at
the end of the measurement; the benchmark's from getrusage (itself plus reaped children: wrk, and
the measuring processes, which are joined before the meter stops... see CpuMeter.stop)."""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, int, int]]:
    """pid -> (ppid, comm, starttime, utime+stime in ticks)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[0] is state (field 3 of stat(5)): ppid is field 4, utime 14, stime 15, starttime 22
        table[int(entry.name)] = (int(fields[1]), comm, int(fields[19]), int(fields[11]) + int(fields[12]))
    return table


def _machine() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    idle = values[3] + values[4]
    return total - idle, total


def _own_cpu() -> float:
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class PostgresProcesses:
    """The local PostgreSQL processes that work for the benchmark: the postmaster's background
    processes (WAL writer, checkpointer, ...: shared, but busy mostly with our writes) and the
    backends connected to our database. Backends of other databases, and other clusters, are
    "other" load. Process titles look like `postgres: USER DB HOST(PORT) STATE`."""

    _SHARED = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication",
               "stats collector", "archiver")

    def __init__(self, postmaster_pid: int, database: str):
        self.postmaster_pid, self.database = postmaster_pid, database

    @classmethod
    def of(cls, database_url: str) -> "PostgresProcesses | None":
        """None when the server is not on this machine (its backend pid is not ours to see)."""
        import psycopg
        with psycopg.connect(database_url, autocommit=True) as conn:
            pid, database = conn.execute("SELECT pg_backend_pid(), current_database()").fetchone()
        table = _processes()
        if pid not in table or table[pid][1] != "postgres":
            return None
        return cls(table[pid][0], database)

    def counts(self, pid: int, table: dict) -> bool:
        if pid == self.postmaster_pid:
            return True
        if table[pid][0] != self.postmaster_pid:
            return False
        title = _cmdline(pid).removeprefix("postgres: ").strip()
        if title.startswith(self._SHARED):
            return True
        parts = title.split()
        return len(parts) > 1 and parts[1] == self.database


def _descendants(table: dict, roots: set[int]) -> set[int]:
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, (ppid, *_rest) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return found


class CpuMeter:
    """start() ... stop() -> seconds of CPU by owner over the interval, and the machine's busy %.

    server_pid: the `fhir-server serve` (gunicorn master) process; without it, processes whose
    command line runs `fhir-server serve` are taken as the server. postgres: which PostgreSQL
    processes count (see PostgresProcesses); without it, none (a remote database)."""

    def __init__(self, server_pid: int | None = None, postgres: "PostgresProcesses | None" = None):
        self.server_pid = server_pid
        self.postgres = postgres

    def _server_roots(self, table: dict) -> set[int]:
        if self.server_pid:
            return {self.server_pid}
        return {pid for pid in table if "fhir-server" in _cmdline(pid) and " serve" in _cmdline(pid)}

    def start(self) -> None:
        self.wall0 = time.perf_counter()
        self.table0 = _processes()
        self.machine0 = _machine()
        self.own0 = _own_cpu()

    def stop_processes(self) -> None:
        """Snapshot the server and PostgreSQL now (before measuring processes close connections)."""
        self.wall1 = time.perf_counter()
        self.table1 = _processes()
        self.machine1 = _machine()

    def stop(self, own_cpu_s: float | None = None) -> dict:
        """Call after stop_processes() and after the measuring processes were reaped. own_cpu_s: the
        benchmark's CPU when the measuring processes reported it themselves (getrusage would also
        count their set-up: imports, connecting)."""
        own = _own_cpu() - self.own0 if own_cpu_s is None else own_cpu_s
        before, after = self.table0, self.table1
        server = _descendants(after, self._server_roots(after))
        used: dict[int, float] = {}
        for pid, (_ppid, _comm, started, ticks) in after.items():
            old = before.get(pid)
            base = old[3] if old is not None and old[2] == started else 0
            used[pid] = (ticks - base) / _TICK
        workers = {pid: round(used[pid], 2) for pid in server if pid != self.server_pid}
        busy = self.machine1[0] - self.machine0[0]
        total = self.machine1[1] - self.machine0[1]
        server_s = sum(used[pid] for pid in server)
        postgres_s = sum(s for pid, s in used.items() if self.postgres and self.postgres.counts(pid, after))
        return {
            "wall_s": round(self.wall1 - self.wall0, 3),
            "server_s": round(server_s, 3),
            "server_workers_s": sorted(workers.values(), reverse=True),
            "postgres_s": round(postgres_s, 3),
            "bench_s": round(own, 3),
            # everything else the machine did meanwhile (kernel threads, other users' processes)
            "other_s": round(max(0.0, busy / _TICK - server_s - postgres_s - own), 3),
            "machine_busy_pct": round(100 * busy / total, 1) if total else None,
        }


def background_busy_pct(seconds: float = 2.0) -> float:
    """The machine's busy share while the benchmark is idle: other users' load shows up here."""
    busy0, total0 = _machine()
    time.sleep(seconds)
    busy1, total1 = _machine()
    return round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)
