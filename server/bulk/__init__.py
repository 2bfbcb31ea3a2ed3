"""Bulk Data $export (hl7.org/fhir/uv/bulkdata export.html): kick-off, the job queue's workers,
manifests and the NDJSON files. Reads data only through interactions (interactions/export.py)."""
