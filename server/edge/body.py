"""Reading a request body in full before dispatch, bounded in size (after decoding) and in time.

Over the limit is 413 whatever the framing: a Content-Length above it, a chunked body that grows past it, or a
gzip body that inflates past it. Once the answer is known, the rest of the body is read and discarded (up to
DRAIN_FACTOR times the limit, within the same deadline) so that a client still sending can read the answer
instead of meeting a reset connection."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from dataclasses import dataclass

DRAIN_FACTOR = 4


@dataclass(frozen=True)
class BodyRefused(Exception):
    status: int
    diagnostics: str
    code: str


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    body_timeout_seconds: float


class _Inflater:
    """gzip (RFC 9110 section 8.4.1.3), inflated piece by piece so that a small body cannot become a huge one."""

    def __init__(self, limit: int):
        self.inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.limit = limit
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        try:
            out = self.inflate.decompress(data, self.limit + 1 - self.size)
        except zlib.error as error:
            raise BodyRefused(400, f"The gzip body does not decode: {error}", "invalid") from None
        self.size += len(out)
        if self.size > self.limit or self.inflate.unconsumed_tail:
            raise BodyRefused(413, f"The body inflates past the limit of {self.limit} bytes", "too-costly")
        return out

    def finish(self) -> bytes:
        if not self.inflate.eof:
            raise BodyRefused(400, "The gzip body is truncated", "invalid")
        return b""


def _declared_length(headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise BodyRefused(400, f"Content-Length '{value}' is not a number of bytes", "invalid")
    return int(value)


def _inflater(headers, limit: int) -> _Inflater | None:
    encoding = (headers.get("content-encoding") or "identity").strip().lower()
    if encoding == "identity":
        return None
    if encoding in ("gzip", "x-gzip"):
        return _Inflater(limit)
    raise BodyRefused(
        415, f"Content-Encoding '{encoding}' is not supported; send the body as it is, or gzip", "not-supported"
    )


async def _receive(proto, headers, limits: Limits) -> bytes:
    limit = limits.max_body_bytes
    declared = _declared_length(headers)
    if declared is not None and declared > limit:
        raise BodyRefused(413, f"The body of {declared} bytes is over the limit of {limit} bytes", "too-costly")
    inflater = _inflater(headers, limit)
    parts, size = [], 0
    async for chunk in proto:
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, f"The body is over the limit of {limit} bytes", "too-costly")
        parts.append(inflater.feed(chunk) if inflater else chunk)
    if inflater:
        parts.append(inflater.finish())
    return b"".join(parts)


async def _drain(proto, cap: int) -> None:
    size = 0
    async for chunk in proto:
        size += len(chunk)
        if size > cap:
            return


async def read_body(proto, headers, limits: Limits) -> bytes:
    """The whole (decoded) body, or BodyRefused: 400, 408 (too slow), 413 (too big), 415 (unknown encoding)."""
    if headers.get("content-length") in (None, "0") and "transfer-encoding" not in headers:
        return b""
    deadline = asyncio.get_running_loop().time() + limits.body_timeout_seconds
    try:
        async with asyncio.timeout_at(deadline):
            return await _receive(proto, headers, limits)
    except TimeoutError:
        raise BodyRefused(408, f"The body did not arrive within {limits.body_timeout_seconds:g} s", "timeout") from None
    except BodyRefused:
        cap = DRAIN_FACTOR * limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is None or not declared.isdigit() or int(declared) <= cap:  # else: answer now, close
            with contextlib.suppress(TimeoutError, OSError, RuntimeError):  # the client may go away meanwhile
                async with asyncio.timeout_at(deadline):
                    await _drain(proto, cap)
        raise
