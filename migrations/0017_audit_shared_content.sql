-- What many AuditEvents share (their agents, type, subtype, outcome, source: three quarters of a read's ~2 kB event)
-- stored once, with the shape of their keys (storage/audit_events.py): audit_shapes.members holds those JSON members,
-- and an event names its shape in audit_events.shape and keeps only its own members (id, meta, recorded, entity).
-- A read of the table renders the whole event (audit_events.content_column). Events stored before (shape NULL)
-- are whole already; so are shapes that hold keys only (members NULL).
ALTER TABLE audit_shapes ADD COLUMN members text;
ALTER TABLE audit_events ADD COLUMN shape text;
