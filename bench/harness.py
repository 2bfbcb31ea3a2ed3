"""Run one operation in a loop in N forked processes that start together, for a fixed time.

Each process builds its own operation (its own HTTP connection, database connection, validator...)
before the start barrier, so setup cost is never measured. Latencies are per operation, in
nanoseconds, and processes report the CPU time they used themselves, which is how the Python
load generator's own overhead is measured."""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

CTX = mp.get_context("fork")  # children inherit imports; nothing is pickled
WARM_UP_CALLS = 10


@dataclass
class Measurement:
    """One row cell: `ops` successful operations in `seconds`, `errors` failed ones."""

    ops: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    own_cpu_s: float | None = None  # CPU the measuring processes used themselves (None: not known)
    cpu: dict = field(default_factory=dict)  # filled by the caller (cpu.CpuMeter)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "ops_per_s": round(self.rate, 1),
            "ops": self.ops,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "own_cpu_s": None if self.own_cpu_s is None else round(self.own_cpu_s, 3),
            "cpu": self.cpu,
        }


def percentile(sorted_values, q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def _child(factory: Callable, args: tuple, duration: float, start, end, results) -> None:
    try:
        op = factory(*args)
        for _ in range(WARM_UP_CALLS):  # lazy imports, caches, prepared statements: not measured
            op()
    except BaseException as error:  # report it, and stop everyone waiting at the barrier
        results.put(("error", f"{type(error).__name__}: {error}"))
        start.abort()
        return
    try:
        start.wait()
    except threading.BrokenBarrierError:
        return
    latencies = array("q")
    errors = 0
    cpu0 = time.process_time()
    t0 = now = time.perf_counter_ns()
    deadline = t0 + int(duration * 1e9)
    while now < deadline:
        ok = op()
        then = time.perf_counter_ns()
        if ok:
            latencies.append(then - now)
        else:
            errors += 1
        now = then
    results.put(("ok", len(latencies), errors, (now - t0) / 1e9, time.process_time() - cpu0, latencies.tobytes()))
    try:
        end.wait(timeout=300)  # keep connections (and their server processes) alive until measured
    except threading.BrokenBarrierError:
        pass
    close = getattr(op, "close", None)
    if close:
        close()


def run_parallel(
    processes: int,
    factory: Callable,
    args: tuple,
    duration: float,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> Measurement:
    """`factory(*args)` in each process returns the operation: a callable returning True on success."""
    start, end = CTX.Barrier(processes + 1), CTX.Barrier(processes + 1)
    results = CTX.Queue()
    children = [
        CTX.Process(target=_child, args=(factory, args, duration, start, end, results), daemon=True)
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    try:
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            problems = []
            while True:
                try:
                    problems.append(results.get(timeout=1)[1])
                except queue.Empty:
                    break
            raise RuntimeError(f"a measuring process failed to start: {'; '.join(problems) or 'timeout'}") from None
        if on_start:
            on_start()
        reports = [results.get(timeout=duration + 120) for _ in range(processes)]
        if on_end:
            on_end()
        end.wait(timeout=60)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    failed = [r[1] for r in reports if r[0] != "ok"]
    if failed:
        raise RuntimeError("; ".join(failed))
    latencies = array("q")
    for report in reports:
        latencies.frombytes(report[5])
    ordered = sorted(latencies)
    seconds = sum(r[3] for r in reports) / processes
    return Measurement(
        ops=sum(r[1] for r in reports),
        errors=sum(r[2] for r in reports),
        seconds=seconds,
        p50_ms=percentile(ordered, 50) / 1e6,
        p99_ms=percentile(ordered, 99) / 1e6,
        own_cpu_s=sum(r[4] for r in reports),
    )
