"""Recomputing every search index row from the stored JSON (after a search parameter is added or
its extraction changes), in batches, one transaction each, through the write path."""

from __future__ import annotations

from collections.abc import Callable

from ..fhir.interactions import Interaction
from ..storage.reindex import count_live, live_batch
from . import audit, write_path
from .context import Services, operator_context


def count_to_reindex(services: Services) -> int:
    with services.database.connection() as conn:
        return count_live(conn)


def reindex(services: Services, batch_size: int = 500, on_batch: Callable[[int], None] = lambda n: None) -> int:
    """Reindex every live resource; call on_batch(n) after each committed batch; return the count.
    The run is one AuditEvent: the operator as actor, how many resources of each type, the outcome."""
    ctx = operator_context(services, "reindex")
    after, done = 0, 0
    counts: dict[str, int] = {}
    try:
        while True:
            with write_path.transaction(ctx) as conn:
                batch = live_batch(conn, after, batch_size)
                write_path.reindex(ctx, conn, batch)
            if not batch:
                break
            for _, resource_type, *_ in batch:
                counts[resource_type] = counts.get(resource_type, 0) + 1
            after, done = batch[-1][0], done + len(batch)
            on_batch(len(batch))
    except BaseException as error:
        audit.record(
            ctx,
            Interaction.REINDEX,
            outcome=500,
            subtype="reindex",
            description=f"Reindex stopped after {done} resources: {type(error).__name__}",
            counts=counts,
        )
        raise
    audit.record(
        ctx, Interaction.REINDEX, outcome=0, subtype="reindex", description=f"Reindexed {done} resources", counts=counts
    )
    return done
