"""Storage-agnostic search semantics: the parameter registry, value extraction, query parsing."""
