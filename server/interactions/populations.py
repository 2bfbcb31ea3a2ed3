"""Population operations over the index tables, under the guard: Patient/$follow-up-gaps and Group/{id}/$pdc
(the SQL is in storage/populations.py; the clinical layer supplies the codes)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, timedelta

import orjson

from ..fhir.bundles import Bundle
from ..fhir.interactions import Interaction
from ..fhir.outcomes import BadRequest
from ..storage import populations
from . import audit
from .context import RequestContext
from .links import page_url
from .read import read
from .search import search_type

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _require(ctx: RequestContext, types: tuple[str, ...]):
    """Every type searchable without a granular restriction (a population query cannot apply one); the patients
    the token reaches (None: all)."""
    return ctx.guard.population_scope(Interaction.SEARCH_TYPE, types)


def follow_up_gaps(
    ctx: RequestContext,
    codes: list[str],
    started_within: int,
    follow_up_within: int,
    appointment_statuses: list[str],
    count: int,
    path: str,
    pairs: list,
    cursor: str | None = None,
) -> Bundle:
    """Patients with a psychiatric start in the window and no visit booked or kept within follow_up_within days,
    a page of `count` in (start, id) order; the next link's cursor keeps the first page's clock, so that every
    page looks at the same window (R4 http.html#paging: the server decides how paging works)."""
    patients = _require(ctx, ("MedicationRequest", "Appointment", "Patient"))
    now, after = _decode_cursor(cursor) if cursor else (datetime.now(UTC), None)
    with ctx.services.database.connection() as conn:
        total, rows = populations.follow_up_gaps(
            conn,
            rxnorm=RXNORM,
            codes=codes,
            statuses=["active", "completed", "on-hold"],
            started_after=now - timedelta(days=started_within),
            now=now,
            follow_up_days=follow_up_within,
            appointment_statuses=appointment_statuses,
            patients=patients,
            limit=count + 1,
            after=after,
        )
    more, rows = len(rows) > count, rows[:count]
    entries = []
    if rows:
        found = search_type(ctx, "Patient", [("_id", ",".join(r[0] for r in rows)), ("_count", str(len(rows)))])
        by_id = {orjson.loads(e.resource_json)["id"]: e for e in found.entries if e.resource_json}
        entries = [by_id[r[0]] for r in rows if r[0] in by_id]
    links = {"self": page_url(ctx.base_url, path, pairs)}
    if more:
        last_id, last_started = rows[-1]
        following = [(k, v) for k, v in pairs if k != "_cursor"] + [
            ("_cursor", _encode_cursor(now, last_started, last_id))
        ]
        links["next"] = page_url(ctx.base_url, path, following)
    return Bundle("searchset", entries, links, total)


def _encode_cursor(now: datetime, started: datetime, patient_id: str) -> str:
    text = orjson.dumps([now.isoformat(), started.isoformat(), patient_id])
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, tuple[datetime, str]]:
    try:
        now, started, patient_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(now), (datetime.fromisoformat(started), str(patient_id))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(
            "Invalid paging cursor; take the next link of the previous page", location="http._cursor"
        ) from None


def group_pdc(
    ctx: RequestContext, group_id: str, codes: list[str], drugs: list[str], period_start: date, period_end: date
) -> tuple[list[str], list[tuple]]:
    """The group's Patient members (that the token reaches) with their fills, index date, days and days covered."""
    content = read(ctx, "Group", group_id).content
    assert content is not None  # read answers 410 for a deletion, the one version without content
    group = orjson.loads(content)
    members = sorted(
        {
            m["entity"]["reference"].removeprefix("Patient/")
            for m in group.get("member") or []
            if not m.get("inactive") and str((m.get("entity") or {}).get("reference", "")).startswith("Patient/")
        }
    )
    if period_start > period_end:
        raise BadRequest("period-start is after period-end", location="http.period-start")
    patients = _require(ctx, ("MedicationDispense", "Patient"))
    with ctx.services.database.connection() as conn:
        rows = populations.group_pdc(
            conn,
            members=members,
            rxnorm=RXNORM,
            codes=codes,
            drugs=drugs,
            period_start=period_start,
            period_end=period_end,
            patients=patients,
        )
    audit.record(ctx, Interaction.OPERATION, patients=[row[0] for row in rows], subtype="$pdc")  # every member measured
    return members, rows
