-- The search keys that many AuditEvents share (those of one client, user, interaction and outcome: type, subtype,
-- outcome, agent, _profile) as one row per distinct set, named by a hash of its keys (storage/audit_events.py).
-- An event keeps its own keys (entity, patient, request id) and, instead of the dozen shared ones, one key naming its
-- shape: a third of the GIN entries to write per event. Events stored before keep every key of their own.
CREATE TABLE audit_shapes (
    hash text PRIMARY KEY,
    keys text NOT NULL
);
CREATE INDEX audit_shapes_keys_idx ON audit_shapes USING gin ((string_to_array(keys, chr(30))));
