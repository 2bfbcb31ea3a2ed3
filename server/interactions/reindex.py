"""Recomputing every search index row from the stored JSON (after a search parameter is added or
its extraction changes), in batches, one transaction each, through the write path."""

from __future__ import annotations

from collections.abc import Callable

from ..storage.reindex import count_live, live_batch
from . import write_path
from .context import Services, operator_context


def count_to_reindex(services: Services) -> int:
    with services.database.connection() as conn:
        return count_live(conn)


def reindex(services: Services, batch_size: int = 500, on_batch: Callable[[int], None] = lambda n: None) -> int:
    """Reindex every live resource; call on_batch(n) after each committed batch; return the count."""
    ctx = operator_context(services, "reindex")
    after, done = 0, 0
    while True:
        with write_path.transaction(ctx) as conn:
            batch = live_batch(conn, after, batch_size)
            write_path.reindex(ctx, conn, batch)
        if not batch:
            return done
        after, done = batch[-1][0], done + len(batch)
        on_batch(len(batch))
