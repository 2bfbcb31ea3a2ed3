-- Fewer index entries per write: every create paid for them, few searches need them.

-- 1. Only token rows with a system can match a `system|` search; most (gender, status, telecom,
--    booleans) have none, and no longer go into this index.
DROP INDEX IF EXISTS search_token_system_idx;
CREATE INDEX search_token_system_idx ON search_token (resource_type, param, system, resource_seq)
    WHERE system IS NOT NULL;

-- 2. A string parameter whose values are one element of another's (Patient family = name.family,
--    address-city = address.city) or the same values (phonetic = name) has no rows of its own: it
--    is searched in the other parameter's rows, by the element each row's text comes from (part).
--    server/search/registry.py derives these pairs from the expressions in resources/*.json; the
--    list below is what it derives for the types this server holds.
ALTER TABLE search_string ADD COLUMN part text;

CREATE TEMP TABLE derived_string_params (resource_type text, param text, stored_as text, part text);
INSERT INTO derived_string_params VALUES
    ('Patient', 'family', 'name', 'family'),
    ('Patient', 'given', 'name', 'given'),
    ('Patient', 'phonetic', 'name', NULL),
    ('Patient', 'address-city', 'address', 'city'),
    ('Patient', 'address-state', 'address', 'state'),
    ('Patient', 'address-postalcode', 'address', 'postalCode'),
    ('Patient', 'address-country', 'address', 'country');

INSERT INTO search_string (resource_seq, resource_type, param, normalized, exact, part, patient_id)
SELECT s.resource_seq, s.resource_type, d.stored_as, s.normalized, s.exact, d.part, s.patient_id
FROM search_string s JOIN derived_string_params d USING (resource_type, param)
WHERE d.part IS NOT NULL;

DELETE FROM search_string s USING derived_string_params d
WHERE s.resource_type = d.resource_type AND s.param = d.param;

-- the base rows that a row with a part now repeats
DELETE FROM search_string b
WHERE b.part IS NULL AND b.resource_type = 'Patient' AND b.param IN ('name', 'address')
  AND EXISTS (SELECT 1 FROM search_string p WHERE p.resource_seq = b.resource_seq AND p.param = b.param
                AND p.exact = b.exact AND p.part IS NOT NULL);

DROP TABLE derived_string_params;

-- searches of a part check it in the index, without visiting the table
DROP INDEX IF EXISTS search_string_prefix_idx;
CREATE INDEX search_string_prefix_idx ON search_string (resource_type, param, normalized text_pattern_ops, resource_seq)
    INCLUDE (part);

-- 3. `:contains` is a string modifier; the token `:text` rows (identifier:text, code:text) are never
--    searched with it, and no longer go into the trigram index. A `:contains` query repeats this
--    predicate (server/storage/index/string.py) so that the planner can use the index.
DROP INDEX IF EXISTS search_string_contains_idx;
CREATE INDEX search_string_contains_idx ON search_string USING gin (normalized gin_trgm_ops)
    WHERE param NOT LIKE '%:text';
