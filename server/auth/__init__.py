"""SMART on FHIR: tokens, scopes, and the guard (guard.py) every interaction passes."""
