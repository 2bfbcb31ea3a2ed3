"""Validation of every resource before it is stored: JSON rules, structure, required bindings."""

from .validator import Validator

__all__ = ["Validator"]
