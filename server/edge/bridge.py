"""An RSGI application (granian's native interface) in front of the WSGI app.

Under granian's WSGI interface the app's thread itself reads the body, so a client trickling one byte a second
holds one of the few threads for as long as it likes (OWASP API4). Here the body is read on the worker's event
loop, bounded in size and time (body.py), and only a complete request is handed to a thread of a fixed pool; the
head's own time bound is granian's (HTTP1Settings.header_read_timeout). The WSGI app and its middleware are
unchanged: they get a PEP 3333 environ whose wsgi.input holds the whole body."""

from __future__ import annotations

import asyncio
import io
import logging
import sys

import orjson

from .app_threads import AppThreads
from .body import BodyRefused, Limits, read_body

log = logging.getLogger("server.edge")
FHIR_JSON = "application/fhir+json; charset=utf-8"
_HOP_BY_HOP = frozenset({"transfer-encoding", "content-encoding", "content-length", "content-type"})
# A response that says it is at most this long is read whole in the app thread: one hand-off to the loop instead of
# one per chunk, one for the end and one for close(). Longer ones (export files) are streamed.
MAX_JOINED_BYTES = 1 << 20


def outcome(status: int, diagnostics: str, code: str, extra: list | None = None) -> tuple[int, list, bytes]:
    """An OperationOutcome answered at the edge (the app never saw the request)."""
    body = orjson.dumps(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]}
    )
    return status, [("content-type", FHIR_JSON), ("connection", "close"), *(extra or [])], body


def environ_for(scope, body: bytes, base: dict) -> dict:
    """PEP 3333: PATH_INFO is the decoded path as latin-1 text; HTTP_ headers repeated are joined with commas."""
    host, _, port = scope.server.rpartition(":")
    environ = {
        **base,
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in scope.headers.items():
        if name in _HOP_BY_HOP:
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
            continue  # the body is whole and decoded now: its framing and coding are no longer the app's concern
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class Bridge:
    """RSGI app: validate the head, read the body, then run the WSGI app on one of `threads` threads."""

    def __init__(self, wsgi_app, threads: int, limits: Limits, grace_seconds: float = 20, on_shutdown=()):
        self.wsgi_app = wsgi_app
        self.limits = limits
        self.threads = AppThreads(threads)
        self.on_shutdown = list(on_shutdown)  # called once in-flight requests are done (e.g. an audit flush)
        self.grace_seconds = grace_seconds
        self.in_flight = 0
        self._idle: asyncio.Event | None = None  # made on the worker's loop (__rsgi_init__)
        self._base = {
            "SERVER_SOFTWARE": "granian",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    async def __call__(self, scope, proto):
        if scope.proto != "http":
            return
        self.in_flight += 1
        self._idle.clear()
        try:
            await self._serve(scope, proto)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    async def _serve(self, scope, proto):
        headers = scope.headers
        if scope.http_version == "1.1" and "host" not in headers:
            proto.response_bytes(
                *outcome(400, "An HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)", "invalid")
            )
            return
        try:
            body = await read_body(proto, headers, self.limits)
        except BodyRefused as refused:
            proto.response_bytes(*outcome(refused.status, refused.diagnostics, refused.code))
            return
        except RuntimeError:  # the client closed the connection while sending: nobody to answer
            return
        environ = environ_for(scope, body, self._base)
        status, response_headers, result = await self.threads.run(self._call_app, environ)
        if isinstance(result, bytes):
            proto.response_bytes(status, response_headers, result)
            return
        transport = proto.response_stream(status, response_headers)
        try:
            while (chunk := await self.threads.run(next, result, None)) is not None:
                if chunk:
                    await transport.send_bytes(chunk)
        finally:
            close = getattr(result, "close", None)
            if close:
                await self.threads.run(close)

    def _call_app(self, environ: dict):
        """In an app thread: the WSGI call; a list body, or one of a known length up to MAX_JOINED_BYTES, is
        joined here; anything else is streamed."""
        started: list = []

        def start_response(status: str, headers: list, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda data: None  # PEP 3333's write(): unused by Flask

        try:
            result = self.wsgi_app(environ, start_response)
        except Exception:  # the app renders its own errors; this is only a last resort
            log.exception("wsgi app failed")
            return outcome(500, "Internal server error; the request was not completed", "exception")
        if isinstance(result, (list, tuple)) or (environ["REQUEST_METHOD"] != "HEAD" and _joinable(started)):
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            return started[0], started[1], body
        iterator = iter(result)
        first = next(iterator, b"")  # start_response may come with the first chunk
        return started[0], started[1], _Prepended(first, iterator, result)

    def __rsgi_init__(self, loop) -> None:
        self._idle = asyncio.Event()
        self._idle.set()

    def __rsgi_del__(self, loop) -> None:
        """granian calls this once the worker stopped accepting: let requests in flight finish, then the hooks."""
        loop.run_until_complete(self.drain(self.grace_seconds))

    async def drain(self, grace_seconds: float) -> bool:
        """Wait (up to the grace period) for in-flight requests; then the shutdown hooks. True if none was left."""
        assert self._idle is not None  # made by __rsgi_init__ before any drain
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
            finished = True
        except TimeoutError:
            finished = False
            log.warning("shutdown grace period over with requests in flight", extra={"in_flight": self.in_flight})
        for hook in self.on_shutdown:
            try:
                hook()
            except Exception:
                log.exception("shutdown hook failed")
        self.threads.shutdown(wait=finished)
        return finished


def _joinable(started: list) -> bool:
    """Whether start_response came already with a Content-Length of at most MAX_JOINED_BYTES."""
    if not started:
        return False
    for name, value in started[1]:
        if name.lower() == "content-length":
            return value.isdigit() and int(value) <= MAX_JOINED_BYTES
    return False


class _Prepended:
    """An iterator with its first item already taken (to learn the status), closing the WSGI result at the end."""

    def __init__(self, first: bytes, rest, result):
        self._first: bytes | None = first
        self._rest, self._result = rest, result

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._rest)

    def close(self):
        close = getattr(self._result, "close", None)
        if close:
            close()
