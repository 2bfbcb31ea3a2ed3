"""The production WSGI server: granian (HTTP in Rust), several worker processes, each with its own
app and connection pool, each running the app in a few threads.

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

SHUTDOWN_SECONDS = 20  # CONTRACT: stop within 30 s of SIGTERM


def _worker_app(settings: Settings):
    from . import create_app  # in each worker, after it started: its own connection pool
    app = create_app(settings)
    gc.freeze()  # the app's long-lived objects (models, registry, routes) stay out of every collection
    return app


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
        address=settings.host, port=settings.port, interface=Interfaces.WSGI, http=HTTPModes.http1,
        websockets=False, workers=workers, blocking_threads=threads, backlog=1024,
        http1_settings=HTTP1Settings(header_read_timeout=30_000, keep_alive=True),
        log_level=LogLevels.warning, log_dictconfig=_log_config(), workers_kill_timeout=SHUTDOWN_SECONDS, respawn_failed_workers=True)
    server.serve(target_loader=partial(_worker_app, settings), wrap_loader=False)
