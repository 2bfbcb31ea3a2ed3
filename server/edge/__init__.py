"""The edge before the WSGI app: what must be decided before a request may take one of the few app threads
(its head well-formed, its whole body received within a size and a time bound); and the worker's shutdown."""
