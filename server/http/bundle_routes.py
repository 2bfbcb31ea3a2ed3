"""batch and transaction: POST [base] with a Bundle (R4 http.html#transaction)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from ..interactions import bundle
from .negotiation import read_json_body
from .responses import fhir_response, prefer
from .routes import _ctx
from .security import authenticate


def bundle_blueprint() -> Blueprint:
    blp = Blueprint("fhir_bundle", __name__, url_prefix="/fhir", description="FHIR batch and transaction")
    blp.before_request(authenticate)

    @blp.route("", methods=["POST"])
    def batch_or_transaction():
        """transaction or batch: the response Bundle, entries in the request's order"""
        return fhir_response(bundle.process(_ctx(), read_json_body(request), prefer("return") == "minimal"))

    return blp
