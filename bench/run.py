#!/usr/bin/env python
"""FHIR server benchmark: HTTP creates and reads next to their floors, in one run, as one table.

    .venv/bin/python bench/run.py                       # starts its own server on a fresh database
    .venv/bin/python bench/run.py --url http://127.0.0.1:8080/fhir --token T \\
        --database-url postgresql://postgres@127.0.0.1:5432/fhir   # an already running server

See bench/README.md for what each row means. Results also go to bench/results/latest.json."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import floors
import loadgen
import psycopg
from cpu import CpuMeter, PostgresProcesses, background_busy_pct
from harness import Measurement
from loadgen import Target
from payload import PATIENT_JSON

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

HTTP_ROWS = {
    "create": "HTTP create: POST /Patient → 201",
    "read": "HTTP read: GET /Patient/{id} → 200",
    "healthz": "floor: HTTP GET /healthz (granian + Flask; no token, no database)",
}
FLOOR_ROWS = {
    "insert": "floor: psycopg INSERT of the same JSON, 1 row/transaction",
    "select": "floor: psycopg SELECT content::text by primary key",
    "validator": "floor: validation alone (server Validator)",
    "model": "floor: fhir.resources model_validate alone",
}
QUIET_PCT = 10  # other load above this share of the machine makes a measurement suspect
TARGETS = {"reads_per_s": 1800, "reads_vs_select_pct": 30, "creates_per_s": 480, "creates_vs_validation_pct": 70}


# --- the server under test -------------------------------------------------------------------------

CODE_DIRS = ("server", "migrations", "resources", "profiles")


def snapshot_code(destination: Path) -> Path:
    """A copy of the server's code and data files, so that edits made while the benchmark runs do
    not change what is measured; the server and the floors import from it."""
    for name in CODE_DIRS:
        shutil.copytree(PROJECT_ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def code_version(root: Path) -> dict:
    """The git commit, whether server code differs from it, and a hash of the code measured."""
    digest = hashlib.sha1()
    for name in CODE_DIRS:
        for path in sorted((root / name).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    git = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_DIRS],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if head.returncode == 0:
            git = {"commit": head.stdout.strip(), "uncommitted_changes": bool(status.stdout.strip())}
    return {**git, "code_hash": digest.hexdigest()[:12]}


def _server_process(code_root: Path | None) -> tuple[list[str], dict, Path]:
    """(command prefix, extra environment, working directory) to run the server CLI."""
    if code_root is not None:
        path = os.pathsep.join(filter(None, [str(code_root), os.environ.get("PYTHONPATH")]))
        return [sys.executable, "-m", "server.cli"], {"PYTHONPATH": path}, code_root
    script = Path(sys.executable).parent / "fhir-server"
    return ([str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]), {}, PROJECT_ROOT


def mint_token(database_url: str, base_url: str, code_root: Path | None = None) -> str:
    command, extra_env, cwd = _server_process(code_root)
    env = {
        **os.environ,
        **extra_env,
        "DATABASE_URL": database_url,
        "FHIR_BASE_URL": base_url,
        "FHIR_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        command + ["token", "--scope", "system/*.cruds"], env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"fhir-server token failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["access_token"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(admin_url: str, dbname: str) -> str:
    return urlsplit(admin_url)._replace(path=f"/{dbname}").geturl()


class LocalServer:
    """A fresh database bench_<pid> and `fhir-server serve` on a free port; both gone on exit."""

    def __init__(self, admin_url: str, workers: int, threads: int, log_path: Path, code_root: Path | None = None):
        self.admin_url, self.workers, self.threads, self.log_path = admin_url, workers, threads, log_path
        self.code_root = code_root
        self.dbname = f"bench_{os.getpid()}"
        self.database_url = _database_url(admin_url, self.dbname)
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/fhir"
        self.proc: subprocess.Popen | None = None
        self.created_db = False

    def __enter__(self) -> LocalServer:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        self.created_db = True
        prefix, extra_env, cwd = _server_process(self.code_root)
        env = {**os.environ, **extra_env, "DATABASE_URL": self.database_url, "FHIR_BASE_URL": self.base_url}
        command = prefix + [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
            )
        self._wait_ready(timeout=90)
        self.token = mint_token(self.database_url, self.base_url, self.code_root)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fhir-server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"fhir-server not ready after {timeout:.0f} s; see {self.log_path}")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this benchmark started
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.created_db:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            self.created_db = False


# --- measuring ---------------------------------------------------------------------------------------


def _measured(
    run, server_pid: int | None, postgres: PostgresProcesses | None, server_port: int | None = None
) -> Measurement:
    meter = CpuMeter(server_pid, postgres, server_port)
    measurement = run(meter.start, meter.stop_processes)
    measurement.cpu = meter.stop(measurement.own_cpu_s)
    return measurement


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _postgres_version(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def benchmark(cfg: argparse.Namespace) -> dict:
    clients = cfg.clients
    with contextlib.ExitStack() as stack:
        code_root = getattr(cfg, "code_root", None)
        if code_root is None and cfg.snapshot and not cfg.url:
            code_root = snapshot_code(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-code-"))))
        if code_root is not None and str(code_root) not in sys.path:
            sys.path.insert(0, str(code_root))  # the floors validate with the same code
        code = code_version(code_root or PROJECT_ROOT)
        code["snapshot"] = code_root is not None
        if cfg.url:
            base_url, database_url, server_pid = cfg.url.rstrip("/"), cfg.database_url, None
            token = cfg.token or mint_token(database_url, base_url)
            server = {"mode": "external", "url": base_url}
        else:
            _log(f"starting fhir-server: {cfg.workers} workers × {cfg.threads} threads, database bench_{os.getpid()}")
            local = stack.enter_context(
                LocalServer(cfg.admin_url, cfg.workers, cfg.threads, RESULTS_DIR / "server.log", code_root)
            )
            base_url, database_url, server_pid, token = local.base_url, local.database_url, local.proc.pid, local.token
            server = {
                "mode": "self-started",
                "url": base_url,
                "workers": cfg.workers,
                "threads": cfg.threads,
                "db_pool_size": int(os.environ.get("FHIR_DB_POOL_SIZE", 4)),
            }
        target = Target(base_url, token)
        postgres = PostgresProcesses.of(database_url)

        generator = cfg.generator
        if generator == "auto":
            generator = "wrk" if loadgen.wrk_path() else "python"
        if generator == "wrk" and not loadgen.wrk_path():
            raise SystemExit("--generator wrk: wrk is not installed (apt-get install -y wrk)")
        http = loadgen.wrk_http if generator == "wrk" else loadgen.python_http
        generator_label = (
            f"wrk {loadgen.wrk_version()} (Lua scripts; threads = min(clients, CPUs))"
            if generator == "wrk"
            else "Python: one process per client, keep-alive http.client"
        )

        background = background_busy_pct(2.0)
        waited_until = time.monotonic() + cfg.wait_quiet
        while background > QUIET_PCT and time.monotonic() < waited_until:
            _log(f"machine {background:.0f} % busy with other work; waiting for it to calm down")
            background = background_busy_pct(5.0)
        _log(f"machine busy while the benchmark is idle: {background:.0f} %")
        _log(f"seeding {cfg.seed} Patients over {max(clients)} connections")
        started = time.perf_counter()
        ids = loadgen.seed(target, cfg.seed, parallel=max(clients))
        seed_rate = len(ids) / (time.perf_counter() - started)

        results: dict[str, dict[int, Measurement]] = {}
        for kind in cfg.http_rows:
            if cfg.warmup > 0:
                _log(f"warm-up: HTTP {kind}, {max(clients)} clients, {cfg.warmup:g} s")
                http(kind, target, max(clients), cfg.warmup, ids)
            for n in clients:
                _log(f"HTTP {kind}, {n} clients, {cfg.duration:g} s ({generator})")
                results[kind] = results.get(kind, {})
                results[kind][n] = _measured(
                    lambda start, end, kind=kind, n=n: http(kind, target, n, cfg.duration, ids, start, end),
                    server_pid,
                    postgres,
                    target.port,
                )
                _log(f"  {results[kind][n].rate:,.0f}/s")

        if cfg.floors:
            floors.create_scratch_table(database_url)
            stack.callback(floors.drop_scratch_table, database_url)
            for kind in FLOOR_ROWS:
                for n in clients:
                    _log(f"floor {kind}, {n} processes, {cfg.duration:g} s")
                    results[kind] = results.get(kind, {})
                    results[kind][n] = _measured(
                        lambda start, end, kind=kind, n=n: floors.measure(
                            kind, n, cfg.duration, database_url, ids, start, end
                        ),
                        server_pid,
                        postgres,
                    )
                    _log(f"  {results[kind][n].rate:,.0f}/s")
        pg_version = _postgres_version(database_url)

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "postgres": pg_version,
        },
        "server": server,
        "code": code,
        "generator": {"name": generator, "label": generator_label},
        "payload": {"resource": "Patient", "bytes": len(PATIENT_JSON)},
        "duration_s": cfg.duration,
        "clients": clients,
        "seeded": len(ids),
        "background_busy_pct": background,
        "postgres_measured": postgres is not None,
        "seed_creates_per_s": round(seed_rate, 1),
        "rows": {kind: {str(n): m.as_dict() for n, m in by_clients.items()} for kind, by_clients in results.items()},
        "ratios": ratios(results, clients),
    }


def _reference_clients(clients: list[int]) -> int:
    return 8 if 8 in clients else max(clients)


def _serial_bound(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(1 / (1 / a + 1 / b), 1)


def ratios(results: dict[str, dict[int, Measurement]], clients: list[int]) -> dict:
    n = _reference_clients(clients)

    def rate(kind):
        return results[kind][n].rate if kind in results and n in results[kind] else None

    def pct(a, b):
        return None if a is None or not b else round(100 * a / b, 1)

    out = {
        "clients": n,
        "reads_per_s": rate("read"),
        "creates_per_s": rate("create"),
        "reads_vs_select_pct": pct(rate("read"), rate("select")),
        "creates_vs_validation_pct": pct(rate("create"), rate("validator")),
        "creates_vs_model_pct": pct(rate("create"), rate("model")),
        "creates_vs_insert_pct": pct(rate("create"), rate("insert")),
        "reads_vs_healthz_pct": pct(rate("read"), rate("healthz")),
        # What the floors leave even for a server that did nothing but two of them, one after the
        # other on the same CPUs (every floor here saturates the machine): 1 / (1/a + 1/b).
        "create_bound_validator_insert": _serial_bound(rate("validator"), rate("insert")),
        "read_bound_healthz_select": _serial_bound(rate("healthz"), rate("select")),
    }
    out["create_bound_vs_validation_pct"] = pct(out["create_bound_validator_insert"], rate("validator"))
    out["read_bound_vs_select_pct"] = pct(out["read_bound_healthz_select"], rate("select"))
    out["checks"] = {name: (None if out[name] is None else out[name] >= goal) for name, goal in TARGETS.items()}
    return out


# --- output -----------------------------------------------------------------------------------------------


def _code_text(code: dict) -> str:
    text = f"git {code.get('commit', '?')}"
    if code.get("uncommitted_changes"):
        text += " + uncommitted changes"
    text += f", code hash {code['code_hash']}"
    if code.get("snapshot"):
        text += " (a copy taken at the start: later edits are not measured)"
    return text


def _other_pct(cell: dict) -> float:
    """The share of the machine (all CPUs) other processes used during one measurement."""
    cpu = cell["cpu"]
    capacity = cpu["wall_s"] * (os.cpu_count() or 1)
    return 100 * cpu["other_s"] / capacity if capacity else 0.0


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def render(report: dict) -> str:
    clients = report["clients"]
    rows = report["rows"]
    labels = {**HTTP_ROWS, **FLOOR_ROWS}
    server = report["server"]
    setting = (
        f"self-started, {server['workers']} workers × {server['threads']} threads (granian),"
        f" DB pool {server['db_pool_size']}/worker"
        if server["mode"] == "self-started"
        else f"external at {server['url']}"
    )
    machine = report["machine"]
    lines = [
        f"FHIR server benchmark, {report['when']}",
        f"- machine: {machine['cpus']} CPUs ({machine['cpu_model']}), Python {machine['python']},"
        f" PostgreSQL {machine['postgres']}",
        f"- server: {setting}",
        f"- code: {_code_text(report['code'])}",
        f"- load generator: {report['generator']['label']}",
        f"- payload: Patient, {report['payload']['bytes']:,} bytes of JSON (POST body); reads pick random ids"
        f" among {report['seeded']:,} Patients created beforehand",
        f"- machine busy before the run, benchmark idle: {report['background_busy_pct']:.0f} %"
        + (
            "  (WARNING: something else is using the CPUs; numbers will be low and noisy)"
            if report["background_busy_pct"] > 10
            else ""
        ),
        f"- {report['duration_s']:g} s per measurement; floors run in as many processes as there are clients,"
        f" each with its own connection",
        "",
    ]
    header = (
        ["measurement"]
        + [f"ops/s @{n}" for n in clients]
        + [f"{q} ms @{n}" for n in clients for q in ("p50", "p99")]
        + ["errors"]
    )
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" + "---:|" * (len(header) - 1))
    for kind, by_clients in rows.items():
        cells = [labels[kind]]
        cells += [
            _rate(by_clients[str(n)]["ops_per_s"]) + ("†" if _other_pct(by_clients[str(n)]) > QUIET_PCT else "")
            for n in clients
        ]
        cells += [_ms(by_clients[str(n)][q]) for n in clients for q in ("p50_ms", "p99_ms")]
        cells.append(str(sum(by_clients[str(n)]["errors"] for n in clients)))
        lines.append("| " + " | ".join(cells) + " |")

    if any(_other_pct(cell) > QUIET_PCT for by_clients in rows.values() for cell in by_clients.values()):
        lines.append(
            f"\n† other processes used more than {QUIET_PCT} % of the machine during this measurement"
            ' (see "other load" below): it is low and noisy; run again on a quiet machine.'
        )
    r = report["ratios"]
    n = r["clients"]

    def check(name, value, shown, goal_text):
        verdict = r["checks"][name]
        result = "n/a" if verdict is None else "PASS" if verdict else "FAIL"
        return f"| {shown} | {'n/a' if value is None else value} | {goal_text} | {result} |"

    lines += [
        "",
        f"| target at {n} clients | measured | target | result |",
        "|---|---:|---:|---|",
        check("reads_per_s", r["reads_per_s"] and _rate(r["reads_per_s"]), "reads/s", f"≥ {TARGETS['reads_per_s']:,}"),
        check(
            "reads_vs_select_pct",
            r["reads_vs_select_pct"] and f"{r['reads_vs_select_pct']:.1f} %",
            "reads vs SELECT floor",
            f"≥ {TARGETS['reads_vs_select_pct']} %",
        ),
        check(
            "creates_per_s",
            r["creates_per_s"] and _rate(r["creates_per_s"]),
            "creates/s",
            f"≥ {TARGETS['creates_per_s']:,}",
        ),
        check(
            "creates_vs_validation_pct",
            r["creates_vs_validation_pct"] and f"{r['creates_vs_validation_pct']:.1f} %",
            "creates vs validation-only bound (server Validator)",
            f"≥ {TARGETS['creates_vs_validation_pct']} %",
        ),
    ]
    extra = []
    if r["creates_vs_model_pct"] is not None:
        extra.append(f"creates are {r['creates_vs_model_pct']:.1f} % of bare model_validate")
    if r["creates_vs_insert_pct"] is not None:
        extra.append(f"{r['creates_vs_insert_pct']:.1f} % of the INSERT floor")
    if r["reads_vs_healthz_pct"] is not None:
        extra.append(f"reads are {r['reads_vs_healthz_pct']:.1f} % of HTTP GET /healthz")
    if extra:
        lines.append(f"\n(for information, at {n} clients: {'; '.join(extra)})")
    if r["create_bound_validator_insert"] is not None:
        lines.append(
            f"\nBound from the floors: a server that only validated and then did the floor's INSERT could"
            f" create at most {_rate(r['create_bound_validator_insert'])}/s"
            f" = {r['create_bound_vs_validation_pct']:.1f} % of the validation-only bound."
        )
    if r["read_bound_healthz_select"] is not None:
        lines.append(
            f"Bound from the floors: a server that only answered /healthz and then did the floor's SELECT"
            f" could read at most {_rate(r['read_bound_healthz_select'])}/s"
            f" = {r['read_bound_vs_select_pct']:.1f} % of the SELECT floor."
        )

    postgres_note = (
        "PostgreSQL = its background processes + the backends of the benchmark's database"
        if report["postgres_measured"]
        else "PostgreSQL is not on this machine: not measured"
    )
    lines += [
        "",
        f"Where the CPU went, in CPU µs per operation ({postgres_note}; interrupts = kernel"
        " irq/softirq time, mostly loopback networking). Other load = what other processes used meanwhile,"
        f" as a share of the whole machine ({machine['cpus']} CPUs = 100 %):",
        "",
        "| measurement | clients | server | PostgreSQL | generator / floor processes | interrupts |"
        " other load | machine busy | server per worker (CPU s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind, by_clients in rows.items():
        for n in clients:
            cell = by_clients[str(n)]
            cpu, ops = cell["cpu"], max(1, cell["ops"])
            workers = ", ".join(f"{s:.1f}" for s in cpu["server_workers_s"]) or "-"
            lines.append(
                f"| {labels[kind]} | {n} | {cpu['server_s'] / ops * 1e6:,.0f} |"
                f" {cpu['postgres_s'] / ops * 1e6:,.0f} | {cpu['bench_s'] / ops * 1e6:,.0f} |"
                f" {cpu['irq_s'] / ops * 1e6:,.0f} | {_other_pct(cell):.0f} % |"
                f" {cpu['machine_busy_pct']:.0f} % | {workers} |"
            )
    return "\n".join(lines)


# --- command line ------------------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers, e.g. 1,8")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    p.add_argument("--clients", type=_int_list, default=[1, 8], help="concurrent clients (default 1,8)")
    p.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds before each HTTP row (default 2)")
    p.add_argument("--seed", type=int, default=2000, help="Patients created before the reads (default 2000)")
    p.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator; auto = wrk when installed, else Python",
    )
    p.add_argument("--url", help="benchmark this running server (its FHIR base URL) instead of starting one")
    p.add_argument("--token", help="with --url: a bearer token with system/*.cruds (default: minted via the CLI)")
    p.add_argument("--database-url", help="with --url: the server's database, for the floors")
    p.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="without --url: PostgreSQL where bench_<pid> is created and dropped",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("FHIR_WORKERS", os.cpu_count() or 1)),
        help="without --url: server workers (default: the server's default, one per CPU)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("FHIR_THREADS", 4)),
        help="without --url: threads per worker (default: the server's default, 4)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"first wait up to this long for the machine to be < {QUIET_PCT} %% busy with other work",
    )
    p.add_argument(
        "--no-snapshot",
        dest="snapshot",
        action="store_false",
        help="run the server from the working tree itself, not from a copy taken at the start",
    )
    p.add_argument("--no-floors", dest="floors", action="store_false", help="HTTP rows only")
    p.add_argument(
        "--http-rows",
        type=lambda s: [k for k in s.split(",") if k],
        default=list(HTTP_ROWS),
        help="which HTTP rows: create,read,healthz (default all)",
    )
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", help="where to write the results")
    return p


def main(argv: list[str] | None = None) -> None:
    cfg = parser().parse_args(argv)
    if cfg.url and not cfg.database_url:
        parser().error("--url needs --database-url (the floors run against the same database)")
    if any(k not in HTTP_ROWS for k in cfg.http_rows):
        parser().error(f"--http-rows: choose among {', '.join(HTTP_ROWS)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too
    report = benchmark(cfg)
    cfg.json.parent.mkdir(parents=True, exist_ok=True)
    cfg.json.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"\n(results written to {cfg.json})")


if __name__ == "__main__":
    main()
