-- Index tables for the remaining search types (R4 search.html): string, date, quantity, uri.
-- Token rows also carry :text (as strings), :of-type and reference :identifier values.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_string (
    resource_seq   bigint NOT NULL,
    resource_type  text   NOT NULL,
    param          text   NOT NULL,
    normalized     text   NOT NULL,  -- lower case, accents removed: the default and :contains match
    exact          text   NOT NULL,  -- as written: the :exact match
    patient_id     text
);
CREATE INDEX search_string_prefix_idx ON search_string (resource_type, param, normalized text_pattern_ops, resource_seq);
CREATE INDEX search_string_exact_idx ON search_string (resource_type, param, exact, resource_seq);
CREATE INDEX search_string_contains_idx ON search_string USING gin (normalized gin_trgm_ops);
CREATE INDEX search_string_resource_idx ON search_string (resource_seq);

-- A date, dateTime, instant or Period as the range [low, high) it covers; open ends are infinite.
CREATE TABLE search_date (
    resource_seq   bigint      NOT NULL,
    resource_type  text        NOT NULL,
    param          text        NOT NULL,
    low            timestamptz NOT NULL,
    high           timestamptz NOT NULL,
    patient_id     text
);
CREATE INDEX search_date_low_idx ON search_date (resource_type, param, low, high, resource_seq);
CREATE INDEX search_date_high_idx ON search_date (resource_type, param, high, resource_seq);
CREATE INDEX search_date_resource_idx ON search_date (resource_seq);

-- A Quantity (or Range, or number) as the range [low, high] its value and precision cover.
CREATE TABLE search_quantity (
    resource_seq   bigint  NOT NULL,
    resource_type  text    NOT NULL,
    param          text    NOT NULL,
    low            numeric NOT NULL,
    high           numeric NOT NULL,
    system         text,
    code           text,
    patient_id     text
);
CREATE INDEX search_quantity_idx ON search_quantity (resource_type, param, low, high, resource_seq);
CREATE INDEX search_quantity_resource_idx ON search_quantity (resource_seq);

CREATE TABLE search_uri (
    resource_seq   bigint NOT NULL,
    resource_type  text   NOT NULL,
    param          text   NOT NULL,
    value          text   NOT NULL,
    patient_id     text
);
CREATE INDEX search_uri_idx ON search_uri (resource_type, param, value text_pattern_ops, resource_seq);
CREATE INDEX search_uri_resource_idx ON search_uri (resource_seq);

-- _has and _revinclude look references up by their target.
CREATE INDEX search_reference_target_idx ON search_reference (target_id, target_type, resource_type, param);
