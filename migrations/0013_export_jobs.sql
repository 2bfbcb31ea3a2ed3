-- Bulk Data $export jobs (hl7.org/fhir/uv/bulkdata export.html): a queue shared by every server
-- process. A worker claims a row with FOR UPDATE SKIP LOCKED and holds it by a lease it renews;
-- a lease that runs out (a crashed worker) lets another worker restart the job.

CREATE TABLE export_jobs (
    id               text        PRIMARY KEY,
    client_id        text        NOT NULL,  -- the client that started it: the only one who may poll and download
    status           text        NOT NULL DEFAULT 'queued',  -- queued | running | completed | failed
    request_url      text        NOT NULL,
    parameters       jsonb       NOT NULL,
    access           jsonb       NOT NULL,  -- the token claims the export is confined by
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    attempt          integer     NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_until      timestamptz,
    done             bigint      NOT NULL DEFAULT 0,
    total            bigint,
    transaction_time timestamptz,
    manifest         jsonb,
    error            jsonb,
    CONSTRAINT export_jobs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed'))
);
CREATE INDEX export_jobs_claim_idx ON export_jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX export_jobs_client_idx ON export_jobs (client_id) WHERE status IN ('queued', 'running');
CREATE INDEX export_jobs_expires_idx ON export_jobs (expires_at);
