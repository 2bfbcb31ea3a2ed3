"""WSGI middleware around the Flask app: every request gets an id (the client's X-Request-ID, else a
new one), echoed in the response, and one structured access log line.

It works on the WSGI environ rather than in Flask hooks: Flask's context proxies cost more per
request than the log line itself."""

from __future__ import annotations

import logging
import secrets
import time

from .request_metrics import observe

access_log = logging.getLogger("server.access")
REQUEST_ID = "fhir.request_id"  # the environ key where the app finds the request's id


def request_id(environ: dict) -> str:
    return environ.get(REQUEST_ID, "-")


class AccessLog:
    def __init__(self, app, types: frozenset[str] = frozenset()):
        self.app = app
        self.types = types  # the registry's resource types: the only values the metrics' type label takes

    def __call__(self, environ: dict, start_response):
        started = time.perf_counter()
        rid = environ.get("HTTP_X_REQUEST_ID", "")[:64] or secrets.token_hex(16)
        environ[REQUEST_ID] = rid
        status: list[str] = []

        def start_with_id(code: str, headers: list, exc_info=None):
            status[:] = [code]
            headers.append(("X-Request-ID", rid))
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, start_with_id)
        finally:
            seconds = time.perf_counter() - started
            code = int(status[0].split(" ", 1)[0]) if status else 500
            path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")  # PEP 3333
            access_log.info(
                "request",
                extra={
                    "method": environ.get("REQUEST_METHOD"),
                    "path": path,
                    "status": code,
                    "ms": round(seconds * 1000, 2),
                    "request_id": rid,
                },
            )
            observe(environ, code, seconds, self.types)
