"""The production server: granian (HTTP in Rust), several worker processes, each with its own app and
connection pool, each running the app in a few threads.

granian serves the RSGI edge (server/edge/bridge.py), which reads each body on the worker's event loop and
hands only complete requests to the app's threads; under granian's WSGI interface a slow client held a thread.

Why granian and not gunicorn: with gunicorn's gthread worker, HTTP parsing and its thread pool cost
more CPU per read than the whole Flask app (bench/README.md, "The HTTP server")."""
from __future__ import annotations

import gc
import logging
from functools import partial

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
    app = create_app(settings)
    bridge = Bridge(app, threads, Limits(settings.max_body_bytes, settings.body_timeout_seconds),
                    grace_seconds=settings.shutdown_grace_seconds, on_shutdown=app.extensions["fhir.on_shutdown"])
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


def serve(settings: Settings, workers: int, threads: int) -> None:
    server = Server(
        "server:create_app",  # a label only: the app comes from _worker_app
        address=settings.host, port=settings.port, interface=Interfaces.RSGI, http=HTTPModes.http1,
        websockets=False, workers=workers, backlog=1024,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout_seconds * 1000), keep_alive=True),
        log_level=LogLevels.warning, log_dictconfig=_log_config(),
        workers_kill_timeout=int(settings.shutdown_grace_seconds + KILL_MARGIN_SECONDS), respawn_failed_workers=True)
    server.serve(target_loader=partial(_worker_app, settings, threads), wrap_loader=False)
