"""Prometheus metrics: one registry module the whole server counts into (server/metrics/registry.py)."""
