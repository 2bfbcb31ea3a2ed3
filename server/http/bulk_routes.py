"""Bulk Data $export over HTTP (hl7.org/fhir/uv/bulkdata export.html): kick-off at the system,
Patient and Group levels, the status URL (poll, DELETE to cancel) and the NDJSON files."""

from __future__ import annotations

import zlib
from datetime import UTC
from email.utils import format_datetime

import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint

from ..bulk import jobs, kickoff
from ..fhir.outcomes import BadRequest, Issue, operation_outcome
from .negotiation import read_json_body
from .parameters import from_body
from .responses import fhir_response, prefer
from .routes import _ctx
from .security import authenticate

NDJSON = "application/fhir+ndjson"


def _exports() -> jobs.Exports:
    return current_app.extensions["fhir.exports"]


def _claims() -> dict:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return current_app.extensions["fhir.tokens"].verify(token)


def _kick_off(level: str, group_id: str | None = None) -> Response:
    if prefer("respond-async") is None:
        raise BadRequest("$export runs asynchronously: send 'Prefer: respond-async' (export.html#headers)")
    lenient = prefer("handling") == "lenient"
    if request.method == "POST":
        export = kickoff.from_parameters(level, group_id, from_body(read_json_body(request)), lenient)
    else:
        export = kickoff.from_query(level, group_id, list(request.args.items(multi=True)), lenient)
    request_url = _ctx().base_url + request.full_path.removeprefix("/fhir").removesuffix("?")
    job_id = jobs.kick_off(_exports(), _ctx(), export, request_url, _claims())
    outcome = operation_outcome([Issue(f"Export {job_id} queued", "informational", "information")])
    return fhir_response(outcome, 202, {"Content-Location": f"{_ctx().base_url}/bulkstatus/{job_id}"})


def _status(job_id: str) -> Response:
    job = jobs.own_job(_ctx(), job_id)
    retry = str(_exports().settings.retry_after_seconds)
    if job.status in ("queued", "running"):
        if job.status == "queued" or job.total is None:
            progress = "queued" if job.status == "queued" else "counting"
        else:
            percent = int(100 * job.done / job.total) if job.total else 100
            progress = f"{percent} % ({job.done:,} of {job.total:,})"
        return Response(status=202, headers={"X-Progress": progress, "Retry-After": retry})
    if job.status == "failed":
        assert job.error is not None  # a failed job has its OperationOutcome
        return fhir_response(job.error, 500)
    response = Response(orjson.dumps(job.manifest), status=200, content_type="application/json")
    response.headers["Expires"] = format_datetime(job.expires_at.astimezone(UTC), usegmt=True)
    return response


def _gzip(chunks):
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip container (RFC 1952)
    for chunk in chunks:
        if data := compressor.compress(chunk):
            yield data
    yield compressor.flush()


def bulk_blueprint() -> Blueprint:
    blp = Blueprint("fhir_bulk", __name__, url_prefix="/fhir", description="Bulk Data $export")
    blp.before_request(authenticate)

    @blp.route("/$export", methods=["GET", "POST"])
    def system_export():
        """system-level $export kick-off"""
        return _kick_off("system")

    @blp.route("/Patient/$export", methods=["GET", "POST"])
    def patient_export():
        """Patient-level $export kick-off: every patient's compartment"""
        return _kick_off("patient")

    @blp.route("/Group/<group_id>/$export", methods=["GET", "POST"])
    def group_export(group_id: str):
        """Group-level $export kick-off: the members' compartments"""
        return _kick_off("group", group_id)

    @blp.route("/bulkstatus/<job_id>", methods=["GET", "DELETE"])
    def export_status(job_id: str):
        """poll an export (202 with X-Progress while running, 200 with the manifest), or cancel it"""
        if request.method == "DELETE":
            jobs.cancel(_exports(), _ctx(), job_id)
            return fhir_response(
                operation_outcome(
                    [Issue(f"Export {job_id} cancelled and its files removed", "informational", "information")]
                ),
                202,
            )
        return _status(job_id)

    @blp.route("/bulkfiles/<job_id>/<name>", methods=["GET"])
    def export_file(job_id: str, name: str):
        """one NDJSON file of a completed export, for the client that started it"""
        key = jobs.output_file(_exports(), _ctx(), job_id, name)
        chunks = _exports().store.read(key)
        headers = {"Cache-Control": "no-store"}
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            chunks, headers["Content-Encoding"] = _gzip(chunks), "gzip"
        return Response(chunks, status=200, content_type=NDJSON, headers=headers)

    return blp
