"""The HTTP edge: routes, content negotiation, Prefer, ETags, and OperationOutcome error rendering."""
