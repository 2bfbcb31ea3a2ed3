"""HTTP load generators: wrk (C, event loop, Lua scripts) when installed, else Python processes
each holding one keep-alive http.client connection. Both keep exactly `clients` requests in flight.

Creates POST the benchmark Patient with a distinct MRN per request; reads GET a random id among
the Patients created beforehand (seed()); healthz GETs /healthz (no token, no database)."""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from harness import CTX, Measurement, run_parallel
from payload import PATIENT, PATIENT_JSON

FHIR_JSON = "application/fhir+json"
MRN = PATIENT["identifier"][0]["value"].encode()
assert PATIENT_JSON.count(MRN) == 1


@dataclass(frozen=True)
class Target:
    base_url: str  # http://host:port/fhir
    token: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    @property
    def path(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    def headers(self, body: bool) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": FHIR_JSON}
        if body:
            headers["Content-Type"] = FHIR_JSON
        return headers


def body_with_mrn(mrn: str) -> bytes:
    return PATIENT_JSON.replace(MRN, mrn.encode())


# --- Python generator ------------------------------------------------------------------------


class _HttpOp:
    """One keep-alive connection; a failed request closes it and http.client reconnects next time."""

    def __init__(self, target: Target):
        self.conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
        self.conn.connect()

    def send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            return 0, b""

    def close(self) -> None:
        self.conn.close()


def _create_op(target: Target):
    http_op = _HttpOp(target)
    path, headers = f"{target.path}/Patient", target.headers(body=True)
    counter = itertools.count()
    prefix = f"BENCH-P{os.getpid()}-"

    def op() -> bool:
        return http_op.send("POST", path, body_with_mrn(f"{prefix}{next(counter)}"), headers)[0] == 201

    op.close = http_op.close
    return op


def _read_op(target: Target, ids: list[str]):
    http_op = _HttpOp(target)
    prefix, headers = f"{target.path}/Patient/", target.headers(body=False)
    rng = random.Random(os.getpid())

    def op() -> bool:
        return http_op.send("GET", prefix + rng.choice(ids), None, headers)[0] == 200

    op.close = http_op.close
    return op


def _healthz_op(target: Target):
    http_op = _HttpOp(target)
    path = f"{target.path.removesuffix('/fhir')}/healthz"

    def op() -> bool:
        return http_op.send("GET", path, None, {})[0] == 200

    op.close = http_op.close
    return op


def python_http(
    kind: str, target: Target, clients: int, duration: float, ids: list[str], on_start=None, on_end=None
) -> Measurement:
    factory, args = {
        "create": (_create_op, (target,)),
        "read": (_read_op, (target, ids)),
        "healthz": (_healthz_op, (target,)),
    }[kind]
    return run_parallel(clients, factory, args, duration, on_start, on_end)


# --- wrk ---------------------------------------------------------------------------------------


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    out = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True)
    match = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "?"


def _lua_string(value: str | bytes) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    assert "]==]" not in text
    return f"[==[{text}]==]"


_LUA_COMMON = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %.0f, "duration_us": %.0f, "connect": %.0f, "read": %.0f, "write": %.0f,'
    .. ' "status": %.0f, "timeout": %.0f, "p50_us": %.1f, "p99_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_create(target: Target) -> str:
    before, after = PATIENT_JSON.split(MRN)
    headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in target.headers(body=True).items())
    return (
        _LUA_COMMON
        + f"""
local path = {_lua_string(target.path + "/Patient")}
local headers = {{{headers}}}
local before, after = {_lua_string(before)}, {_lua_string(after)}
local n = 0
function request()
  n = n + 1
  return wrk.format("POST", path, headers, before .. "BENCH-W" .. tid .. "-" .. os.time() .. "-" .. n .. after)
end
"""
    )


def _lua_read(target: Target, ids_file: str) -> str:
    headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in target.headers(body=False).items())
    return (
        _LUA_COMMON
        + f"""
local prefix = {_lua_string(target.path + "/Patient/")}
local headers = {{{headers}}}
local ids = {{}}
function init(args)
  for line in io.lines({_lua_string(ids_file)}) do ids[#ids + 1] = line end
  math.randomseed(tid * 7919 + os.time())
end
function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)], headers)
end
"""
    )


def _lua_healthz(target: Target) -> str:
    return (
        _LUA_COMMON
        + f"""
local path = {_lua_string(target.path.removesuffix("/fhir") + "/healthz")}
function request()
  return wrk.format("GET", path)
end
"""
    )


def wrk_threads(clients: int) -> int:
    return max(1, min(clients, os.cpu_count() or 1))


def wrk_http(
    kind: str, target: Target, clients: int, duration: float, ids: list[str], on_start=None, on_end=None
) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        ids_file = Path(tmp, "ids.txt")
        ids_file.write_text("\n".join(ids) + "\n")
        script = Path(tmp, f"{kind}.lua")
        script.write_text(
            {
                "create": lambda: _lua_create(target),
                "read": lambda: _lua_read(target, str(ids_file)),
                "healthz": lambda: _lua_healthz(target),
            }[kind]()
        )
        command = [
            wrk_path(),
            "-t",
            str(wrk_threads(clients)),
            "-c",
            str(clients),
            "-d",
            f"{max(1, round(duration))}s",  # wrk takes whole seconds
            "--timeout",
            "30s",
            "-s",
            str(script),
            target.base_url,
        ]
        if on_start:
            on_start()
        done = subprocess.run(command, capture_output=True, text=True)
        if on_end:
            on_end()
    line = next((text for text in done.stdout.splitlines() if text.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = int(result["status"] + result["connect"] + result["read"] + result["write"] + result["timeout"])
    return Measurement(
        ops=int(result["requests"]) - int(result["status"]),
        errors=errors,
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
    )


# --- seeding -------------------------------------------------------------------------------------


def _seed_child(target: Target, count: int, offset: int, out) -> None:
    http_op = _HttpOp(target)
    path, headers = f"{target.path}/Patient", target.headers(body=True)
    ids, failures = [], []
    for i in range(count):
        status, body = http_op.send("POST", path, body_with_mrn(f"SEED-{offset + i:07d}"), headers)
        if status == 201:
            ids.append(orjson.loads(body)["id"])
        else:
            failures.append(f"{status} {body[:300]!r}")
    http_op.close()
    out.put((ids, failures[:3], len(failures)))


def seed(target: Target, count: int, parallel: int = 8) -> list[str]:
    """Create `count` Patients over `parallel` connections; their ids, for the reads."""
    out = CTX.Queue()
    shares = [count // parallel + (1 if i < count % parallel else 0) for i in range(parallel)]
    offsets = list(itertools.accumulate([0] + shares[:-1]))
    children = [
        CTX.Process(target=_seed_child, args=(target, n, off, out), daemon=True)
        for n, off in zip(shares, offsets, strict=False)
        if n
    ]
    for child in children:
        child.start()
    ids, failures, failed = [], [], 0
    deadline = time.monotonic() + 600
    for _ in children:
        got_ids, examples, n_failed = out.get(timeout=max(1.0, deadline - time.monotonic()))
        ids += got_ids
        failures += examples
        failed += n_failed
    for child in children:
        child.join()
    if failed:
        raise RuntimeError(f"{failed} of {count} seeding creates failed, e.g. {failures[:3]}")
    return ids
