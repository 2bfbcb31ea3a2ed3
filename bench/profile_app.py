#!/usr/bin/env python
"""Where a request's CPU goes inside the Flask app, without the HTTP server or the network.

    .venv/bin/python bench/profile_app.py [--requests 2000] [--top 30]

Creates a scratch database bench_prof_<pid> (dropped at the end), builds the app with
server.create_app() exactly as a server worker does, and calls it as a WSGI application in one
thread: first timed (thread CPU time per request), then under cProfile with a thread-CPU clock.
Prints CPU µs per create and per read, then the inclusive CPU of the main steps (each function
wrapped with a thread-CPU timer: a few µs of overhead per call), and with --cprofile, self CPU
grouped by package and the top functions.
Logging is configured as `fhir-server serve` does (JSON lines at INFO on stderr, sent to a file).
`FHIR_AUDIT=off` in the environment builds the app without the AuditEvent trail."""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import orjson
import psycopg
from payload import PATIENT_JSON

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://127.0.0.1:8080/fhir"


def _environ(method: str, path: str, token: str, body: bytes | None) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/fhir+json",
    }
    if body is not None:
        environ["CONTENT_TYPE"] = "application/fhir+json"
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class Client:
    def __init__(self, app, token: str):
        self.app, self.token = app, token

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[str, bytes]:
        environ = _environ(method, path, self.token, body)
        environ["wsgi.input"] = io.BytesIO(body or b"")
        status = []
        chunks = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return status[0], data


def _group(filename: str) -> str:
    path = filename.replace("\\", "/")
    if "/server/" in path and "site-packages" not in path:
        return "server." + path.split("/server/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path.startswith("~") or path.startswith("<"):
        return "builtins (C functions)"
    return "stdlib:" + Path(path).stem


# Functions timed one by one (inclusive thread CPU and wall time); missing ones are skipped, since
# the server's code moves. Both `module:function` and `module:Class.method`.
READ_PATHS = [
    "server.http.security:authenticate",
    "server.auth.tokens:TokenService.verify",
    "server.auth.policy:AccessPolicy.from_claims",
    "server.interactions.read:read",
    "server.storage.resources:read_current",
    "server.http.responses:resource_response",
    "server.http.negotiation:response_mimetype",
    "psycopg_pool:ConnectionPool.getconn",
    "psycopg_pool:ConnectionPool.putconn",
    "psycopg:Connection.execute",
    "logging:Logger._log",
]
CREATE_PATHS = [
    "server.http.negotiation:read_json_body",
    "server.interactions.write:create",
    "server.interactions.write:prepare_create",
    "server.validation.validator:Validator.validate",
    "server.validation.json_rules:json_rule_issues",
    "server.validation.structure:structure_issues",
    "server.fhir.models:structure_errors",
    "pydantic:BaseModel.model_validate",
    "server.validation.bindings:binding_issues",
    "server.interactions.write:create_in",
    "server.interactions.references:resolve_conditional_references",
    "server.interactions.versions:store_version",
    "server.interactions.write_path:prepare",
    "server.interactions.write_path:commit",
    "server.interactions.references:local_targets",
    "server.search.extract:index_rows",
    "server.search.extract:patient_compartment",
    "server.storage.writes:store",
    "server.storage.writes:_store_in_one_statement",
    "server.storage.index:insert",
    "psycopg:Connection.execute",
    "psycopg:Connection.transaction",
    "psycopg_pool:ConnectionPool.getconn",
    "psycopg_pool:ConnectionPool.putconn",
    "server.http.responses:resource_response",
    "server.http.responses:version_headers",
    "server.http.responses:fhir_response",
    "server.http.negotiation:response_mimetype",
    "logging:Logger._log",
]


class Timed:
    """Wrap functions in place (and wherever they were imported by name) to time them."""

    def __init__(self, paths: list[str]):
        self.totals: dict[str, list[float]] = {}
        self.undo: list[tuple[object, str, object]] = []
        for path in paths:
            self._wrap(path)

    def _wrap(self, path: str) -> None:
        import importlib

        module_name, qualname = path.split(":")
        try:
            owner = importlib.import_module(module_name)
            *parents, name = qualname.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        except (ImportError, AttributeError, KeyError):
            self.totals[path] = None  # not in this version of the code
            return
        totals = self.totals.setdefault(path, [0, 0.0, 0.0])
        decorator = type(original) if isinstance(original, (classmethod, staticmethod)) else None
        function = original.__func__ if decorator else original

        depth = [0]  # a recursive function counts once, from its outermost call

        def timed(*args, **kwargs):
            if depth[0]:
                return function(*args, **kwargs)
            depth[0] += 1
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
                totals[0] += 1
                totals[1] += time.thread_time() - cpu
                totals[2] += time.perf_counter() - wall

        timed.__wrapped__ = function
        replacement = decorator(timed) if decorator else timed
        holders = (
            [owner]
            if isinstance(owner, type)
            else [m for m in list(sys.modules.values()) if getattr(m, name, None) is original]
        )
        for holder in holders:
            self.undo.append((holder, name, original))
            setattr(holder, name, replacement)

    def restore(self) -> None:
        for holder, name, original in reversed(self.undo):
            setattr(holder, name, original)

    def report(self, requests: int, title: str, total_cpu: float, total_wall: float) -> None:
        print(
            f"\n## {title}: timed functions (inclusive, per request; whole request {total_cpu:,.0f} µs CPU,"
            f" {total_wall:,.0f} µs wall)\n"
        )
        print(f"  {'CPU µs':>8} {'wall µs':>8} {'calls':>6}  function")
        for path, totals in self.totals.items():
            if totals is None:
                print(f"  {'-':>8} {'-':>8} {'-':>6}  {path} (not found)")
            elif totals[0]:
                print(
                    f"  {totals[1] / requests * 1e6:8.0f} {totals[2] / requests * 1e6:8.0f}"
                    f" {totals[0] / requests:6.1f}  {path}"
                )


def _timed(client: Client, requests: list, paths: list[str], title: str) -> None:
    timed = Timed(paths)
    statuses: dict[str, int] = defaultdict(int)
    try:
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        for method, path, body in requests:
            statuses[client.call(method, path, body)[0]] += 1
        n = len(requests)
        print(f"\n({title}: responses {dict(statuses)})")
        timed.report(n, title, (time.thread_time() - cpu0) / n * 1e6, (time.perf_counter() - wall0) / n * 1e6)
    finally:
        timed.restore()


def _profile(client: Client, requests: list[tuple[str, str, bytes | None]], top: int, title: str) -> None:
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for method, path, body in requests:
        client.call(method, path, body)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    by_group: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        by_group[_group(filename)] += tottime
    n = len(requests)
    print(
        f"\n## {title}: self CPU by package"
        f" (under cProfile, {total / n * 1e6:,.0f} µs/request incl. profiler overhead)\n"
    )
    for group, seconds in sorted(by_group.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {100 * seconds / total:5.1f} %  {seconds / n * 1e6:7.0f} µs  {group}")
    print(f"\n## {title}: top {top} functions by cumulative CPU (µs/request)\n")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])
    shown = 0
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in rows:
        if "site-packages/werkzeug/serving" in filename or name in ("<module>",):
            continue
        where = _group(filename)
        if not (
            where.startswith("server")
            or where
            in (
                "flask",
                "flask_smorest",
                "psycopg",
                "fhir_core",
                "pydantic",
                "werkzeug",
                "joserfc",
                "psycopg_pool",
                "stdlib:__init__",
            )
        ):
            continue
        print(
            f"  {cumtime / n * 1e6:7.0f} cum  {tottime / n * 1e6:6.0f} self  {ncalls / n:5.1f}×  "
            f"{where}: {name} ({Path(filename).name}:{line})"
        )
        shown += 1
        if shown >= top:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--cprofile",
        action="store_true",
        help="also run cProfile (its overhead inflates Python-heavy code several times)",
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    dbname = f"bench_prof_{os.getpid()}"
    database_url = f"{args.admin_url.rsplit('/', 1)[0]}/{dbname}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    log_file = tempfile.TemporaryFile()
    saved_stderr = os.dup(2)
    try:
        from server import create_app
        from server.config import Settings
        from server.logs import configure_logging
        from server.storage.migrate import apply_migrations

        env = {"DATABASE_URL": database_url, "FHIR_BASE_URL": BASE_URL}
        if "FHIR_AUDIT" in os.environ:
            env["FHIR_AUDIT"] = os.environ["FHIR_AUDIT"]
        settings = Settings.from_env(env=env)
        apply_migrations(database_url, settings.migrations_dir)
        os.dup2(log_file.fileno(), 2)  # the access log goes to a file, as in production
        configure_logging("INFO")
        app = create_app(settings)
        gc.freeze()  # as server/wsgi.py does in each worker
        token = app.extensions["fhir.tokens"].mint("system/*.cruds", 3600, subject="bench", client_id="bench")[
            "access_token"
        ]
        client = Client(app, token)

        def create_body(i: int) -> bytes:
            return PATIENT_JSON.replace(b"MRN-00482917", f"PROF-{i}".encode())

        ids = []
        for i in range(300):  # warm-up, and ids for the reads
            status, data = client.call("POST", "/fhir/Patient", create_body(i))
            assert status.startswith("201"), (status, data[:500])
            ids.append(orjson.loads(data)["id"])
        n = args.requests
        reads = [("GET", f"/fhir/Patient/{ids[i % len(ids)]}", None) for i in range(n)]
        creates = [("POST", "/fhir/Patient", create_body(10_000 + i)) for i in range(n)]

        results = {}
        for name, requests in (("read", reads), ("create", creates)):
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            for method, path, body in requests:
                client.call(method, path, body)
            results[name] = ((time.thread_time() - cpu0) / n * 1e6, (time.perf_counter() - wall0) / n * 1e6)
        print(f"# The Flask app alone (no HTTP server, no sockets), one thread, {n} requests each")
        for name, (cpu, wall) in results.items():
            print(f"  {name:6s}: {cpu:7.0f} µs CPU/request (this thread), {wall:7.0f} µs wall/request")
        _timed(client, reads, READ_PATHS, "read")
        _timed(client, [("POST", "/fhir/Patient", create_body(30_000 + i)) for i in range(n)], CREATE_PATHS, "create")
        if not args.cprofile:
            return
        _profile(client, reads, args.top, "read")
        _profile(client, [("POST", "/fhir/Patient", create_body(50_000 + i)) for i in range(n)], args.top, "create")
    finally:
        os.dup2(saved_stderr, 2)
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    main()
