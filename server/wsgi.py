"""The production server: granian (HTTP in Rust), several worker processes, each with its own app and
connection pool, each running the app in a few threads.

granian serves the RSGI edge (server/edge/bridge.py), which reads each body on the worker's event loop (uvloop,
which granian picks when installed) and hands only complete requests to the app's threads; under granian's WSGI
interface a slow client held a thread. The hop costs CPU per request (bench/README.md, "The RSGI edge").

Why granian and not gunicorn: with gunicorn's gthread worker, HTTP parsing and its thread pool cost
more CPU per read than the whole Flask app (bench/README.md, "The HTTP server")."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import tempfile
from functools import partial
from pathlib import Path

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import Server

from .config import Settings

KILL_MARGIN_SECONDS = 5  # after the grace period, granian kills a worker that still has not stopped


def _worker_app(settings: Settings, threads: int):
    from . import create_app  # in each worker, after it started: its own connection pool
    from .edge.body import Limits
    from .edge.bridge import Bridge
    from .metrics.registry import forget_dead_workers

    forget_dead_workers()
    app = create_app(settings)
    bridge = Bridge(
        app,
        threads,
        Limits(settings.max_body_bytes, settings.body_timeout_seconds),
        grace_seconds=settings.shutdown_grace_seconds,
        on_shutdown=app.extensions["fhir.on_shutdown"],
    )
    gc.freeze()  # the app's long-lived objects (models, registry, routes) stay out of every collection
    return bridge


def _log_config() -> dict:
    """Logging in the workers as in the CLI (server/logs.py: JSON lines on stderr), granian's own included."""
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    return {
        "formatters": {"json": {"()": "server.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {"_granian": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
    }


def _metrics_directory() -> None:
    """prometheus-client's multiprocess mode: each worker keeps its values in files there, a scrape adds them up.
    Set before any worker imports prometheus_client; emptied at each start (stale files would count twice)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
        return
    directory = tempfile.mkdtemp(prefix="fhir-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    atexit.register(shutil.rmtree, directory, True)


def serve(settings: Settings, workers: int, threads: int) -> None:
    _metrics_directory()
    server = Server(
        "server:create_app",  # a label only: the app comes from _worker_app
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        websockets=False,
        workers=workers,
        backlog=1024,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout_seconds * 1000), keep_alive=True),
        log_level=LogLevels.warning,
        log_dictconfig=_log_config(),
        workers_kill_timeout=int(settings.shutdown_grace_seconds + KILL_MARGIN_SECONDS),
        respawn_failed_workers=True,
    )
    server.serve(target_loader=partial(_worker_app, settings, threads), wrap_loader=False)
