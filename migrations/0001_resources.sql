-- Current versions, full history, and the search index tables.
-- Every row carries patient_id (the patient compartment; a Patient's own id) so the schema can be
-- distributed by patient on Citus later.

CREATE TABLE resources (
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    resource_type  text        NOT NULL,
    id             text        NOT NULL,
    version_id     integer     NOT NULL,
    last_updated   timestamptz NOT NULL,
    deleted        boolean     NOT NULL DEFAULT false,
    patient_id     text,
    content        jsonb,
    CONSTRAINT resources_pkey PRIMARY KEY (resource_type, id)
);
CREATE UNIQUE INDEX resources_seq_idx ON resources (seq);
-- searches page by (resource_type, seq): seq never changes on update, so keyset paging sees
-- every match exactly once while others write
CREATE INDEX resources_live_type_seq_idx ON resources (resource_type, seq) WHERE NOT deleted;
CREATE INDEX resources_type_updated_idx ON resources (resource_type, last_updated) WHERE NOT deleted;
CREATE INDEX resources_patient_idx ON resources (patient_id, resource_type);

CREATE TABLE resource_history (
    history_seq    bigint GENERATED ALWAYS AS IDENTITY,
    resource_type  text        NOT NULL,
    id             text        NOT NULL,
    version_id     integer     NOT NULL,
    last_updated   timestamptz NOT NULL,
    deleted        boolean     NOT NULL,
    method         text        NOT NULL,
    patient_id     text,
    content        jsonb,
    CONSTRAINT resource_history_pkey PRIMARY KEY (resource_type, id, version_id)
);
CREATE UNIQUE INDEX resource_history_seq_idx ON resource_history (history_seq);
CREATE INDEX resource_history_type_seq_idx ON resource_history (resource_type, history_seq);
CREATE INDEX resource_history_updated_idx ON resource_history (last_updated);

CREATE TABLE search_token (
    resource_seq   bigint NOT NULL,
    resource_type  text   NOT NULL,
    param          text   NOT NULL,
    system         text,
    code           text   NOT NULL,
    patient_id     text
);
CREATE INDEX search_token_lookup_idx ON search_token (resource_type, param, code, system, resource_seq);
CREATE INDEX search_token_system_idx ON search_token (resource_type, param, system, resource_seq);
CREATE INDEX search_token_resource_idx ON search_token (resource_seq);

CREATE TABLE search_reference (
    resource_seq   bigint NOT NULL,
    resource_type  text   NOT NULL,
    param          text   NOT NULL,
    target_type    text,
    target_id      text   NOT NULL,
    patient_id     text
);
CREATE INDEX search_reference_lookup_idx ON search_reference (resource_type, param, target_id, target_type, resource_seq);
CREATE INDEX search_reference_resource_idx ON search_reference (resource_seq);

CREATE TABLE signing_keys (
    kid          text        PRIMARY KEY,
    private_jwk  jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
