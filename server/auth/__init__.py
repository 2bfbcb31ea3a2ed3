"""SMART on FHIR: tokens, scopes and the access policy every interaction consults."""
