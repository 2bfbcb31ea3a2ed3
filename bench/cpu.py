"""Where the CPU went during one measurement: the FHIR server's processes, PostgreSQL's, the
benchmark's own (load generator or floor processes), interrupt handling, and everything else
(other users of the machine), plus the machine's busy share.

Linux only (/proc). Server and PostgreSQL time comes from /proc/<pid>/stat, classified while the
measuring processes still hold their connections; the benchmark's own time from the measuring
processes themselves, or from getrusage (itself plus reaped children, e.g. wrk)."""

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
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # fields[0] is state (field 3 of stat(5)): ppid is field 4, utime 14, stime 15, starttime 22
        table[int(entry.name)] = (int(fields[1]), comm, int(fields[19]), int(fields[11]) + int(fields[12]))
    return table


def _machine() -> dict[str, int]:
    """Jiffies over all CPUs since boot: busy (user, nice, system, irq, softirq), irq (irq +
    softirq: mostly loopback networking here), steal (the hypervisor ran someone else) and total."""
    user, nice, system, idle, iowait, irq, softirq, steal = [
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    ]
    return {
        "busy": user + nice + system + irq + softirq,
        "irq": irq + softirq,
        "steal": steal,
        "total": user + nice + system + idle + iowait + irq + softirq + steal,
    }


def _own_cpu() -> float:
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


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


def listening_pids(port: int) -> set[int]:
    """The processes holding a TCP socket that listens on `port` on this machine."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    if not inodes:
        return set()
    targets = {f"socket:[{inode}]" for inode in inodes}
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in targets for fd in (entry / "fd").iterdir()):
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


class PostgresProcesses:
    """The local PostgreSQL processes that work for the benchmark: the postmaster's background
    processes (WAL writer, checkpointer, ...: shared, but busy mostly with our writes) and the
    backends connected to our database. Backends of other databases, and other clusters, are
    "other" load. Process titles look like `postgres: [CLUSTER: ]USER DB HOST(PORT) STATE`."""

    _SHARED = (
        "checkpointer",
        "background writer",
        "walwriter",
        "autovacuum",
        "logical replication",
        "stats collector",
        "archiver",
    )

    def __init__(self, postmaster_pid: int, database: str):
        self.postmaster_pid, self.database = postmaster_pid, database

    @classmethod
    def of(cls, database_url: str) -> PostgresProcesses | None:
        """None when the database is not on this machine (its backend pid is not ours to see)."""
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            pid, database = conn.execute("SELECT pg_backend_pid(), current_database()").fetchone()
            table = _processes()  # while the backend is alive
        if pid not in table or table[pid][1] != "postgres":
            return None
        return cls(table[pid][0], database)

    def counts(self, pid: int, table: dict) -> bool:
        if pid == self.postmaster_pid:
            return True
        if table[pid][0] != self.postmaster_pid:
            return False
        title = _cmdline(pid).removeprefix("postgres: ").strip()
        first, _, rest = title.partition(" ")
        if first.endswith(":"):  # cluster_name prefix, e.g. Debian's "15/main: "
            title = rest.strip()
        if title.startswith(self._SHARED):
            return True
        parts = title.split()
        return len(parts) > 1 and parts[1] == self.database


class CpuMeter:
    """start() ... stop_processes() ... stop() -> CPU seconds by owner over the interval.

    server_pid: the `fhir-server serve` (granian main) process; without it, the processes
    holding the socket listening on server_port (the main process and workers share it), if any
    on this machine. postgres: which PostgreSQL processes count (see PostgresProcesses); without
    it, none (a remote database)."""

    def __init__(
        self, server_pid: int | None = None, postgres: PostgresProcesses | None = None, server_port: int | None = None
    ):
        self.server_pid = server_pid
        self.server_port = server_port
        self.postgres = postgres

    def _server_roots(self, table: dict) -> set[int]:
        if self.server_pid:
            return {self.server_pid}
        return listening_pids(self.server_port) if self.server_port else set()

    def start(self) -> None:
        self.wall0 = time.perf_counter()
        self.table0 = _processes()
        self.machine0 = _machine()
        self.own0 = _own_cpu()

    def stop_processes(self) -> None:
        """Snapshot and classify the processes now, while the measuring processes and their
        PostgreSQL backends are still alive."""
        self.wall1 = time.perf_counter()
        after = _processes()
        self.machine1 = _machine()
        used: dict[int, float] = {}
        for pid, (_ppid, _comm, started, ticks) in after.items():
            old = self.table0.get(pid)
            used[pid] = (ticks - (old[3] if old is not None and old[2] == started else 0)) / _TICK
        server = _descendants(after, self._server_roots(after))
        postgres = {pid for pid in after if self.postgres and self.postgres.counts(pid, after)}
        ours = _descendants(after, {os.getpid()}) - server
        self.server_s = sum(used[pid] for pid in server)
        self.workers_s = sorted((round(used[pid], 2) for pid in server if pid != self.server_pid), reverse=True)
        self.postgres_s = sum(used[pid] for pid in postgres)
        others = sorted(
            ((s, pid) for pid, s in used.items() if pid not in server | postgres | ours and s >= 0.05), reverse=True
        )
        self.top_others = [(round(s, 2), (_cmdline(pid) or after[pid][1])[:80]) for s, pid in others[:3]]

    def stop(self, own_cpu_s: float | None = None) -> dict:
        """After stop_processes() and after the measuring processes were reaped. own_cpu_s: the
        benchmark's CPU when the measuring processes reported it themselves (getrusage would also
        count their set-up: imports, connecting)."""
        own = _own_cpu() - self.own0 if own_cpu_s is None else own_cpu_s
        delta = {key: (self.machine1[key] - self.machine0[key]) / _TICK for key in self.machine0}
        return {
            "wall_s": round(self.wall1 - self.wall0, 3),
            "server_s": round(self.server_s, 3),
            "server_workers_s": self.workers_s,
            "postgres_s": round(self.postgres_s, 3),
            "bench_s": round(own, 3),
            "irq_s": round(delta["irq"], 3),
            # everything else the machine did meanwhile: other users' processes, kernel threads
            "other_s": round(max(0.0, delta["busy"] - delta["irq"] - self.server_s - self.postgres_s - own), 3),
            "other_top": self.top_others,
            "steal_pct": round(100 * delta["steal"] / delta["total"], 1) if delta["total"] else None,
            "machine_busy_pct": round(100 * delta["busy"] / delta["total"], 1) if delta["total"] else None,
        }


def background_busy_pct(seconds: float = 2.0) -> float:
    """The machine's busy share while the benchmark is idle: other users' load shows up here."""
    before = _machine()
    time.sleep(seconds)
    after = _machine()
    return round(100 * (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"]), 1)
