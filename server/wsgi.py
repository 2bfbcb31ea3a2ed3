"""The production WSGI server: gunicorn, several workers, each with its own app and pool."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app  # in each worker, after fork: its own connection pool
        return create_app(self.settings)


def serve(settings: Settings, workers: int, threads: int) -> None:
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "graceful_timeout": 20,  # CONTRACT: stop within 30 s of SIGTERM
        "timeout": 60,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "limit_request_line": 8190,
    }
    _Gunicorn(settings, options).run()
