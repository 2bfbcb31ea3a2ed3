"""The AuditEvent trail (HIPAA audit controls, IHE BALP shapes): events.py builds the AuditEvent of
an access, trail.py stores them (writes in their own transaction, the rest buffered), middleware.py
records every FHIR request. To audit an operation, call `record` (server/interactions/audit.py)."""

from __future__ import annotations

from ..interactions.audit import Access, record, saw

__all__ = ["Access", "record", "saw"]
