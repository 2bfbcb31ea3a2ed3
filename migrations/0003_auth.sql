-- The SMART authorization server's state: clients, users, EHR launches, pending authorizations,
-- authorization codes, refresh tokens, revocations and used client-assertion ids.
-- Every secret (client secret, code, refresh token, launch id, request id) is stored as a SHA-256 hash.

CREATE TABLE oauth_clients (
    client_id      text        PRIMARY KEY,
    name           text        NOT NULL,
    redirect_uris  text[]      NOT NULL DEFAULT '{}',
    scope          text        NOT NULL,
    auth_method    text        NOT NULL,  -- none | client_secret_basic | private_key_jwt
    secret_hash    text,
    jwks           jsonb,
    jwks_url       text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_users (
    username       text        PRIMARY KEY,
    password_hash  text        NOT NULL,
    fhir_user      text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_launches (
    launch_hash    text        PRIMARY KEY,
    context        jsonb       NOT NULL,
    expires_at     timestamptz NOT NULL
);

-- An authorization in progress, between the authorize request and the redirect back to the app.
CREATE TABLE auth_requests (
    request_hash   text        PRIMARY KEY,
    client_id      text        NOT NULL,
    params         jsonb       NOT NULL,
    context        jsonb       NOT NULL DEFAULT '{}',
    expires_at     timestamptz NOT NULL
);

CREATE TABLE auth_codes (
    code_hash              text        PRIMARY KEY,
    client_id              text        NOT NULL,
    redirect_uri           text        NOT NULL,
    scope                  text        NOT NULL,
    context                jsonb       NOT NULL,
    code_challenge         text        NOT NULL,
    code_challenge_method  text        NOT NULL,
    grant_id               text        NOT NULL,
    expires_at             timestamptz NOT NULL,
    used_at                timestamptz
);

CREATE TABLE refresh_tokens (
    token_hash     text        PRIMARY KEY,
    grant_id       text        NOT NULL,
    client_id      text        NOT NULL,
    scope          text        NOT NULL,
    context        jsonb       NOT NULL,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id);

-- 'grant:<id>' (a refresh token family and every access token issued from it) or 'jti:<jti>'
-- (one access token); kept until no token it covers can still be valid.
CREATE TABLE token_revocations (
    revoked_id     text        PRIMARY KEY,
    revoked_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX token_revocations_expiry_idx ON token_revocations (expires_at);

-- RFC 7523 section 3: a client assertion's jti is accepted once; the primary key makes that atomic.
CREATE TABLE client_assertion_jtis (
    client_id      text        NOT NULL,
    jti            text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    CONSTRAINT client_assertion_jtis_pkey PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expiry_idx ON client_assertion_jtis (expires_at);
