"""Connection pool. Connections run in autocommit; a write opens one explicit transaction."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout


class TransactionConflict(Exception):
    """PostgreSQL aborted the transaction to break a deadlock with a concurrent one (or a
    serialization failure): nothing of it was written, and running it again may succeed."""


class Database:
    def __init__(self, url: str, pool_size: int = 4):
        self.url = url
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, kwargs={"autocommit": True},
                                   open=False, name="fhir")

    def open(self) -> None:
        self.pool.open(wait=True, timeout=30)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One database transaction: everything inside commits together or not at all."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as error:
            raise TransactionConflict(str(error).strip()) from error

    def is_ready(self) -> bool:
        try:
            with self.pool.connection(timeout=3) as conn:
                conn.execute("SELECT 1")
            return True
        except (psycopg.Error, PoolTimeout):
            return False
