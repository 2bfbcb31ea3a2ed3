"""Typed access to single-row query results."""
from __future__ import annotations

from typing import Any

import psycopg


def scalar(cursor: psycopg.Cursor[Any]) -> Any:
    """The first column of the one row a query always returns (count(*), EXISTS, now())."""
    row = cursor.fetchone()
    assert row is not None, "the query returns exactly one row"
    return row[0]
