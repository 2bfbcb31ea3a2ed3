"""Population queries of the medication-safety operations, over the index tables (no resource is loaded
into Python): follow-up gaps after psychiatric starts, and PQA PDC for a group's members."""

from __future__ import annotations

from datetime import date, datetime

import psycopg
from psycopg import sql

from .patient_filter import PatientFilter, patient_condition


def _patients(patients: PatientFilter, column: str) -> tuple[sql.Composable, list]:
    if patients is None:
        return sql.SQL("TRUE"), []
    return patient_condition(patients, sql.SQL(column))


def _hash_joins(conn: psycopg.Connection) -> None:
    """The index tables' columns are correlated (a code's rows all have one param and type), so the planner
    estimates these joins at a row or two and picks nested loops over thousands; for this transaction only,
    let it hash instead."""
    conn.execute("SET LOCAL enable_nestloop = off")


def follow_up_gaps(
    conn: psycopg.Connection,
    *,
    rxnorm: str,
    codes: list[str],
    statuses: list[str],
    started_after: datetime,
    now: datetime,
    follow_up_days: int,
    appointment_statuses: list[str],
    patients: PatientFilter,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> tuple[int, list[tuple[str, datetime]]]:
    """(total, up to `limit` (patient id, latest start) after `after` in (start, id) order) of patients whose
    latest psychiatric MedicationRequest (authoredOn in the window) has no Appointment of those statuses
    starting within follow_up_days after it."""
    condition, params = _patients(patients, "t.patient_id")
    query = sql.SQL("""
        WITH starts AS (
            SELECT t.patient_id, max(d.low) AS started
            FROM search_token t
            JOIN search_date d ON d.resource_seq = t.resource_seq AND d.resource_type = 'MedicationRequest'
                              AND d.param = 'authoredon'
            JOIN search_token s ON s.resource_seq = t.resource_seq AND s.resource_type = 'MedicationRequest'
                               AND s.param = 'status' AND s.code = ANY(%s)
            WHERE t.resource_type = 'MedicationRequest' AND t.param = 'code' AND t.system = %s AND t.code = ANY(%s)
              AND d.low >= %s AND d.low <= %s AND t.patient_id IS NOT NULL AND {condition}
            GROUP BY t.patient_id
        ), visits AS MATERIALIZED (
            -- the appointments that could close a gap: starting on or after the window's first day
            SELECT ad.patient_id, ad.low
            FROM search_date ad
            JOIN search_token ast ON ast.resource_seq = ad.resource_seq AND ast.resource_type = 'Appointment'
                                 AND ast.param = 'status' AND ast.code = ANY(%s)
            WHERE ad.resource_type = 'Appointment' AND ad.param = 'date'
              AND ad.low >= date_trunc('day', %s::timestamptz)
        ), gaps AS (
            SELECT count(*) OVER () AS total, s.patient_id, s.started FROM starts s
            WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.patient_id = s.patient_id
                              AND v.low >= date_trunc('day', s.started)
                              AND v.low < s.started + make_interval(days => %s))
        )
        -- the window counts every gap before the page's WHERE (a filter is not pushed below a window)
        SELECT total, patient_id, started FROM gaps WHERE {after} ORDER BY started, patient_id LIMIT %s
    """).format(
        condition=condition,
        after=sql.SQL("(started, patient_id) > (%s, %s)") if after is not None else sql.SQL("TRUE"),
    )
    with conn.transaction():
        _hash_joins(conn)
        rows = conn.execute(
            query,
            [
                statuses,
                rxnorm,
                codes,
                started_after,
                now,
                *params,
                appointment_statuses,
                started_after,
                follow_up_days,
                *(after or ()),
                limit,
            ],
        ).fetchall()
    if not rows and after is not None:  # past the last gap (they changed since the previous page): the total
        return follow_up_gaps(
            conn,
            rxnorm=rxnorm,
            codes=codes,
            statuses=statuses,
            started_after=started_after,
            now=now,
            follow_up_days=follow_up_days,
            appointment_statuses=appointment_statuses,
            patients=patients,
            limit=1,
        )[0], []
    return (rows[0][0] if rows else 0), [(r[1], r[2]) for r in rows]


def group_pdc(
    conn: psycopg.Connection,
    *,
    members: list[str],
    rxnorm: str,
    codes: list[str],
    drugs: list[str],
    period_start: date,
    period_end: date,
    patients: PatientFilter,
) -> list[tuple]:
    """Per member: (patient id, fills on distinct dates, index date, days in period, days covered).

    PQA shifting of early refills of the same drug, in closed form: a fill's shifted end is
    S_i + max_{j<=i}(date_j - 1 - S_{j-1}), S the running sum of days' supply in date order; the drugs'
    shifted intervals are then united (a datemultirange) and clipped to [index date, period end]."""
    condition, params = _patients(patients, "u.patient_id")
    # Each step is MATERIALIZED so that the sort and window functions carry narrow rows; the days' supply comes
    # from the index rows, never from a scan of resources.
    query = sql.SQL("""
        WITH m AS MATERIALIZED (SELECT DISTINCT u.patient_id FROM unnest(%s::text[]) AS u(patient_id)
                   WHERE {condition}),
        codes AS (SELECT unnest(%s::text[]) AS code, unnest(%s::text[]) AS drug),
        coded AS MATERIALIZED (
            SELECT t.resource_seq, t.patient_id, c.drug
            FROM search_token t
            JOIN codes c ON c.code = t.code
            JOIN m ON m.patient_id = t.patient_id
            JOIN search_token st ON st.resource_seq = t.resource_seq AND st.resource_type = 'MedicationDispense'
                                AND st.param = 'status' AND st.code = 'completed'
            WHERE t.resource_type = 'MedicationDispense' AND t.param = 'code' AND t.system = %s
              AND t.code = ANY(%s)
        ),
        fills AS MATERIALIZED (
            -- the days' supply from its index row (days-supply: the value's precision range, whose middle is the
            -- value); a dispense stored before that parameter existed has none until a reindex: read its content
            SELECT k.patient_id, k.drug, d.low::date AS day,
                   CASE WHEN q.resource_seq IS NOT NULL THEN greatest(round((q.low + q.high) / 2), 0)::int
                        ELSE (SELECT greatest(round((r.content -> 'daysSupply' ->> 'value')::numeric), 0)::int
                              FROM resources r WHERE r.seq = k.resource_seq AND NOT r.deleted
                                AND jsonb_typeof(r.content -> 'daysSupply' -> 'value') = 'number') END AS days
            FROM coded k
            JOIN search_date d ON d.resource_seq = k.resource_seq AND d.resource_type = 'MedicationDispense'
                              AND d.param = 'whenhandedover'
            LEFT JOIN search_quantity q ON q.resource_seq = k.resource_seq AND q.resource_type = 'MedicationDispense'
                                       AND q.param = 'days-supply'
            WHERE d.low::date <= %s
        ),
        running AS (
            SELECT patient_id, drug, day, days,
                   sum(days) OVER w AS s_i, sum(days) OVER w - days AS s_prev
            FROM fills WHERE days > 0
            WINDOW w AS (PARTITION BY patient_id, drug ORDER BY day, days DESC ROWS UNBOUNDED PRECEDING)
        ),
        shifted AS (
            SELECT patient_id, drug, day, days,
                   max(day - 1 - s_prev::int) OVER (PARTITION BY patient_id, drug ORDER BY day, days DESC
                                                    ROWS UNBOUNDED PRECEDING) + s_i::int AS end_day
            FROM running
        ),
        per_patient AS (
            SELECT patient_id,
                   count(DISTINCT day) FILTER (WHERE day >= %s) AS fills,
                   min(day) FILTER (WHERE day >= %s) AS index_day,
                   range_agg(daterange((end_day - days + 1)::date, (end_day + 1)::date)) AS covered
            FROM shifted GROUP BY patient_id
        )
        SELECT m.patient_id, coalesce(p.fills, 0), p.index_day,
               CASE WHEN p.index_day IS NULL THEN 0 ELSE (%s::date - p.index_day + 1) END,
               coalesce((SELECT sum(upper(x) - lower(x)) FROM unnest(p.covered * datemultirange(
                   daterange(p.index_day, (%s::date + 1)))) AS x), 0)
        FROM m LEFT JOIN per_patient p ON p.patient_id = m.patient_id
        ORDER BY m.patient_id
    """).format(condition=condition)
    with conn.transaction():
        _hash_joins(conn)
        conn.execute("SET LOCAL work_mem = '32MB'")  # the window functions' sort of every fill, in memory
        return conn.execute(
            query,
            [
                members,
                *params,
                codes,
                drugs,
                rxnorm,
                codes,
                period_end,
                period_start,
                period_start,
                period_end,
                period_end,
            ],
        ).fetchall()
