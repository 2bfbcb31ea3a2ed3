"""The purpose layer: medication-safety knowledge, the rule engine and the services built on it."""
