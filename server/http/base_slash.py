"""`[base]/` is `[base]` (CONTRACT.md): clients such as Python fhirclient, fhirpy and fhir-kit-client post
batches and transactions to `/fhir/` and search `/fhir/?_type=`. Rewritten before routing, so both
spellings reach the same routes and the same checks."""

from __future__ import annotations

BASE_PATH = "/fhir"


class BaseSlash:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO") == BASE_PATH + "/":
            environ["PATH_INFO"] = BASE_PATH
        return self.app(environ, start_response)
