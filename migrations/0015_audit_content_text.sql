-- An AuditEvent's content as text, not jsonb: the server shapes it itself (server/audit/events.py) and only ever
-- reads it whole, as text (a read, a search page, an export), never by a jsonb operator, so parsing it into jsonb
-- on every insert bought nothing; it cost about a quarter of the database's CPU per stored event (bench/README.md).
ALTER TABLE audit_events ALTER COLUMN content TYPE text USING content::text;
