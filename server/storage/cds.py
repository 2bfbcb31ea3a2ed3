"""CDS Hooks rows: client issuers, issued cards and their feedback (migration 0012)."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb


def insert_cds_client(conn: psycopg.Connection, issuer: str, client_id: str) -> None:
    conn.execute("INSERT INTO cds_client (issuer, client_id) VALUES (%s, %s)", (issuer, client_id))


def cds_client_id(conn: psycopg.Connection, issuer: str) -> str | None:
    row = conn.execute("SELECT client_id FROM cds_client WHERE issuer = %s", (issuer,)).fetchone()
    return row[0] if row else None


def insert_cards(conn: psycopg.Connection, service_id: str, patient_id: str, cards: list[tuple[str, str]]) -> None:
    """cards: (uuid, rule id) pairs, one statement."""
    if cards:
        conn.execute(
            "INSERT INTO cds_card (card_uuid, service_id, rule_id, patient_id)"
            " SELECT u::uuid, %s, r, %s FROM unnest(%s::text[], %s::text[]) AS t(u, r)",
            (service_id, patient_id, [c[0] for c in cards], [c[1] for c in cards]),
        )


def card_services(conn: psycopg.Connection, card_uuids: list[str]) -> dict[str, str]:
    """card uuid -> the service that issued it, for those that exist."""
    rows = conn.execute(
        "SELECT card_uuid::text, service_id FROM cds_card WHERE card_uuid = ANY(%s::uuid[])", (card_uuids,)
    ).fetchall()
    return dict(rows)


def insert_feedback(conn: psycopg.Connection, items: list[dict]) -> None:
    """items: card, outcome, accepted, override_reason, outcome_timestamp; a repeated report is stored once."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cds_feedback (card_uuid, outcome, accepted, override_reason, outcome_timestamp)"
            " VALUES (%s::uuid, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    i["card"],
                    i["outcome"],
                    Jsonb(i["accepted"]) if i["accepted"] is not None else None,
                    Jsonb(i["override_reason"]) if i["override_reason"] is not None else None,
                    i["outcome_timestamp"],
                )
                for i in items
            ],
        )


def feedback_counts(conn: psycopg.Connection) -> list[tuple[str, str, int, int, int]]:
    """Per service and rule: cards issued, accepted, overridden."""
    return conn.execute(
        "SELECT c.service_id, c.rule_id, count(DISTINCT c.card_uuid),"
        " count(DISTINCT c.card_uuid) FILTER (WHERE f.outcome = 'accepted'),"
        " count(DISTINCT c.card_uuid) FILTER (WHERE f.outcome = 'overridden')"
        " FROM cds_card c LEFT JOIN cds_feedback f ON f.card_uuid = c.card_uuid"
        " GROUP BY c.service_id, c.rule_id ORDER BY c.service_id, c.rule_id"
    ).fetchall()
