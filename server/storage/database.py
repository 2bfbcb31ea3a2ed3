"""Connection pool. Connections run in autocommit; a write opens one explicit transaction.

When PostgreSQL is unreachable, a request fails fast with DatabaseUnavailable (the edge answers 503 with
Retry-After) instead of waiting long on the pool, and the pool heals itself once PostgreSQL is back."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

POOL_TIMEOUT_SECONDS = 1.5  # the longest a request waits for a connection before its 503
CONNECT_TIMEOUT_SECONDS = 2
UNREACHABLE_WAIT_SECONDS = 0.25
RECONNECT_SECONDS = 3.0  # a failing reconnection gives up after this; the next request starts a fresh one


class TransactionConflict(Exception):
    """PostgreSQL aborted the transaction to break a deadlock with a concurrent one (or a
    serialization failure): nothing of it was written, and running it again may succeed."""


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached (no connection in time, or the connection broke): nothing of the
    interaction was committed unless the commit itself had been acknowledged; sending it again later may work."""


def check_idle_connection(conn: psycopg.Connection) -> None:
    """The pool's check on lending a connection: an idle connection has nothing to read, so anything readable
    (PostgreSQL's FATAL on shutdown, or the end of the stream) means it may be dead: then ask the server.
    Cheaper than a round trip per request, and a server restart no longer hands out killed connections."""
    if conn.pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("connection is broken")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class Database:
    def __init__(self, url: str, pool_size: int = 4, pool_timeout: float = POOL_TIMEOUT_SECONDS):
        self.url = url
        self.pool_timeout = pool_timeout
        self.unreachable = False  # the last attempt found no server: wait only briefly until one connection works
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            name="fhir",
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            timeout=pool_timeout,
            check=check_idle_connection,
            reconnect_timeout=RECONNECT_SECONDS,
        )

    def open(self) -> None:
        self.pool.open(wait=True, timeout=30)

    def close(self) -> None:
        self.pool.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called: the process is ending, no connection will be given again."""
        return self.pool.closed

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._translated_errors(), self._pooled() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One database transaction: everything inside commits together or not at all."""
        with self._translated_errors(), self._pooled() as conn, conn.transaction():
            yield conn

    @contextmanager
    def _pooled(self) -> Iterator[psycopg.Connection]:
        # While the server is known to be down, a request fails in a moment rather than queueing every thread
        # behind a full pool timeout; the pool keeps reconnecting meanwhile, and the first success ends it.
        with self.pool.connection(UNREACHABLE_WAIT_SECONDS if self.unreachable else self.pool_timeout) as conn:
            self.unreachable = False
            yield conn

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """psycopg's errors of a lost or unreachable server, or of a deadlock, as the errors the edge renders."""
        try:
            yield
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as error:
            raise TransactionConflict(str(error).strip()) from error
        except (PoolTimeout, psycopg.OperationalError) as error:
            if isinstance(error, PoolTimeout) or not error.sqlstate or error.sqlstate.startswith("57P"):
                self.unreachable = True  # no connection, a broken one, or the server shutting down (57P: operator)
            text = str(error).strip()
            raise DatabaseUnavailable(text.splitlines()[0] if text else type(error).__name__) from error

    def is_ready(self) -> bool:
        try:
            with self.pool.connection() as conn:
                conn.execute("SELECT 1")
            return True
        except (psycopg.Error, PoolTimeout):
            return False
