"""Pipeline mode (libpq pipelining): statements whose results are not read yet are sent without
waiting, so a transaction of many small writes costs far fewer round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def pipelined(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    with conn.pipeline():
        yield conn
