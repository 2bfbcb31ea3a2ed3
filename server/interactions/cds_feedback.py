"""CDS Hooks card bookkeeping and the feedback endpoint's storage (cds-hooks.hl7.org/2.0/#feedback)."""

from __future__ import annotations

import uuid
from datetime import datetime

from ..fhir.outcomes import BadRequest
from ..storage import cds
from ..storage.database import Database

OUTCOMES = ("accepted", "overridden")


def record_cards(database: Database, service_id: str, patient_id: str, issued: list[tuple[str, str]]) -> None:
    """Remember which rule each issued card came from, so feedback is countable per rule."""
    if issued:
        with database.connection() as conn:
            cds.insert_cards(conn, service_id, patient_id, issued)


def record_feedback(database: Database, service_id: str, body: object) -> int:
    """Store a feedback request's items (all or none); returns how many were given."""
    items = _items(body)
    with database.connection() as conn, conn.transaction():
        known = cds.card_services(conn, [i["card"] for i in items])
        for index, item in enumerate(items):
            if known.get(item["card"]) != service_id:
                raise BadRequest(f"feedback[{index}].card {item['card']} is not a card this service issued")
        cds.insert_feedback(conn, items)
    return len(items)


def feedback_counts(database: Database) -> list[dict]:
    """Cards issued, accepted and overridden, per service and rule."""
    with database.connection() as conn:
        rows = cds.feedback_counts(conn)
    return [{"service": s, "rule": r, "cards": n, "accepted": a, "overridden": o} for s, r, n, a, o in rows]


def _items(body: object) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list) or not body["feedback"]:
        raise BadRequest('The body must be {"feedback": [...]} with at least one item')
    items = []
    for index, item in enumerate(body["feedback"]):
        where = f"feedback[{index}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object")
        try:
            card = str(uuid.UUID(str(item.get("card"))))
        except ValueError:
            raise BadRequest(f"{where}.card must be the uuid of a card") from None
        outcome = item.get("outcome")
        if outcome not in OUTCOMES:
            raise BadRequest(f"{where}.outcome must be accepted or overridden")
        accepted = item.get("acceptedSuggestions")
        if outcome == "accepted" and (
            not isinstance(accepted, list)
            or not accepted
            or not all(isinstance(s, dict) and s.get("id") for s in accepted)
        ):
            raise BadRequest(f"{where}.acceptedSuggestions (each with an id) is required when accepted")
        reason = item.get("overrideReason")
        if reason is not None and not isinstance(reason, dict):
            raise BadRequest(f"{where}.overrideReason must be an object")
        items.append(
            {
                "card": card,
                "outcome": outcome,
                "accepted": accepted if outcome == "accepted" else None,
                "override_reason": reason,
                "outcome_timestamp": _instant(item.get("outcomeTimestamp"), where),
            }
        )
    return items


def _instant(value: object, where: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{where}.outcomeTimestamp must be an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise BadRequest(f"{where}.outcomeTimestamp needs a time zone (UTC)")
    return instant
