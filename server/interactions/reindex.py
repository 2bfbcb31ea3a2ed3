"""Recomputing every search index row from the stored JSON (after a search parameter is added or
its extraction changes), in batches, one transaction each."""
from __future__ import annotations

from typing import Callable

import orjson

from ..search.extract import index_rows, patient_compartment
from ..storage.index import replace_index_rows
from ..storage.reindex import count_live, live_batch, set_patient
from .context import Services


def count_to_reindex(services: Services) -> int:
    with services.database.connection() as conn:
        return count_live(conn)


def reindex(services: Services, batch_size: int = 500, on_batch: Callable[[int], None] = lambda n: None) -> int:
    """Reindex every live resource; call on_batch(n) after each committed batch; return the count."""
    after, done = 0, 0
    while True:
        with services.database.transaction() as conn:
            batch = live_batch(conn, after, batch_size)
            for seq, resource_type, content in batch:
                definition = services.registry.get(resource_type)
                if definition is None:
                    continue
                resource = orjson.loads(content)
                patient_id = patient_compartment(definition, resource, services.base_url)
                set_patient(conn, seq, patient_id)
                replace_index_rows(conn, seq, resource_type, patient_id,
                                   index_rows(definition, resource, services.base_url))
        if not batch:
            return done
        after, done = batch[-1][0], done + len(batch)
        on_batch(len(batch))
