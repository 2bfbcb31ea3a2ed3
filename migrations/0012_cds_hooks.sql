-- CDS Hooks: the clients allowed to call with a signed JWT, the cards issued (so feedback can be
-- counted per rule) and the feedback itself (cds-hooks.hl7.org/2.0/#feedback).

CREATE TABLE cds_client (
    issuer      text PRIMARY KEY,              -- the JWT iss the client signs with
    client_id   text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE
);

CREATE TABLE cds_card (
    card_uuid   uuid PRIMARY KEY,
    service_id  text NOT NULL,
    rule_id     text NOT NULL,
    patient_id  text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cds_card_issued_idx ON cds_card (issued_at);

CREATE TABLE cds_feedback (
    id                bigserial PRIMARY KEY,
    card_uuid         uuid NOT NULL REFERENCES cds_card (card_uuid) ON DELETE CASCADE,
    outcome           text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    accepted          jsonb,
    override_reason   jsonb,
    outcome_timestamp timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (card_uuid, outcome, outcome_timestamp)
);
