"""Referential integrity lookups (R4 references.html): which targets exist, who refers to a resource.

Referrers are found through the reference search index, which holds every reference of the live
resources that a search parameter covers."""

from __future__ import annotations

import psycopg


def lock_live_targets(conn: psycopg.Connection, targets: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The (type, id) targets that exist and are not deleted -> their patient compartment, share-locked
    until commit so that a concurrent delete of one of them waits for this transaction (and then sees
    its references)."""
    if not targets:
        return {}
    types, ids = zip(*targets, strict=False)
    rows = conn.execute(
        "SELECT r.resource_type, r.id, r.patient_id FROM resources r"
        " JOIN unnest(%s::text[], %s::text[]) AS t(resource_type, id)"
        "   ON r.resource_type = t.resource_type AND r.id = t.id"
        " WHERE NOT r.deleted FOR SHARE OF r",
        (list(types), list(ids)),
    ).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}


def lock_for_delete(conn: psycopg.Connection, resource_type: str, id: str) -> None:
    """Row lock before the referrer check: writers still adding references to it finish first."""
    conn.execute("SELECT 1 FROM resources WHERE resource_type = %s AND id = %s FOR UPDATE", (resource_type, id))


def referrers(
    conn: psycopg.Connection, resource_type: str, id: str, limit: int = 100, ignoring: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Live resources other than itself whose indexed references point at resource_type/id;
    `ignoring`: referrer types that neither block nor cascade a delete."""
    rows = conn.execute(
        "SELECT DISTINCT r.resource_type, r.id FROM search_reference t JOIN resources r ON r.seq = t.resource_seq"
        " WHERE t.target_id = %s AND t.target_type = %s AND NOT r.deleted"
        "   AND NOT (r.resource_type = %s AND r.id = %s) AND r.resource_type <> ALL(%s)"
        " ORDER BY 1, 2 LIMIT %s",
        (id, resource_type, resource_type, id, list(ignoring), limit),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]
