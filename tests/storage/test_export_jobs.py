"""The export job queue's one insert: a job is queued for the workers, or (the CLI's own job) inserted
already leased to its creator."""

from __future__ import annotations

import uuid

import psycopg

from server.storage import export_jobs


def test_one_insert_queues_a_job_or_hands_it_to_its_creator(database_url):
    queued_id, claimed_id = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as conn:
        queued = export_jobs.insert_job(conn, queued_id, "c1", "http://x/fhir/$export", {}, {}, 60)
        claimed = export_jobs.insert_job(
            conn, claimed_id, "c1", "http://x/fhir/$export", {}, {}, 60, claimed_by=("cli-1", 30.0)
        )
        try:
            assert (queued.status, queued.attempt, queued.lease_owner) == ("queued", 0, None)
            assert (claimed.status, claimed.attempt, claimed.lease_owner) == ("running", 1, "cli-1")
            assert claimed.lease_until is not None and claimed.lease_until > claimed.created_at
            assert export_jobs.get_job(conn, queued_id) == queued
        finally:
            conn.execute("DELETE FROM export_jobs WHERE id = ANY(%s)", ([queued_id, claimed_id],))
    assert not hasattr(export_jobs, "insert_claimed_job")
