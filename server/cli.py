"""fhir-server: serve | migrate | token. Each command prints one JSON object on stdout; logs go to stderr."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import cast

import orjson

from .config import Settings
from .logs import configure_logging

log = logging.getLogger("server.cli")


def _print(obj: dict) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")
    sys.stdout.flush()


@contextmanager
def _database_settings(settings: Settings):
    """Settings with a database URL: DATABASE_URL, or the embedded server under FHIR_DATA_DIR."""
    if settings.database_url:
        yield settings
        return
    from .storage.embedded import start_embedded, stop_embedded

    server, url = start_embedded(settings.data_dir)
    try:
        yield dataclasses.replace(settings, database_url=url)
    finally:
        stop_embedded(server)


def _migrate(settings: Settings) -> list[str]:
    from .storage.migrate import apply_migrations

    assert settings.database_url is not None  # from _database_settings
    return apply_migrations(settings.database_url, settings.migrations_dir)


def cmd_migrate(args) -> None:
    with _database_settings(Settings.from_env()) as settings:
        _print({"applied": _migrate(settings)})


def cmd_token(args) -> None:
    from .auth.keys import ensure_signing_keys
    from .auth.tokens import TokenService
    from .storage.database import Database

    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=1)
        database.open()
        try:
            service = TokenService(ensure_signing_keys(database), settings.base_url, settings.base_url)
        finally:
            database.close()
        _print(
            service.mint(
                args.scope,
                args.lifetime,
                subject=args.fhir_user or "operator",
                client_id="fhir-server-cli",
                patient=args.patient,
                fhir_user=args.fhir_user,
            )
        )


@contextmanager
def _open_database():
    """A migrated database for one administrative command."""
    from .storage.database import Database

    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=1)
        database.open()
        try:
            yield database
        finally:
            database.close()


def cmd_client_create(args) -> None:
    from .auth.clients import register_client

    if args.jwks_file and args.jwks_url:
        sys.exit("give --jwks-file or --jwks-url, not both")
    if args.public and (args.jwks_file or args.jwks_url):
        sys.exit("a public client has no JWKS; use --confidential")
    if args.cds_hooks and not (args.jwks_file or args.jwks_url):
        sys.exit("a CDS Hooks client signs its calls: give --jwks-file or --jwks-url")
    jwks = orjson.loads(open(args.jwks_file, "rb").read()) if args.jwks_file else None
    with _open_database() as database:
        registered = register_client(
            database,
            name=args.name,
            redirect_uris=args.redirect_uri or [],
            scope=args.scope,
            public=args.public,
            jwks=jwks,
            jwks_url=args.jwks_url,
        )
        if args.cds_hooks:
            from .auth.cds_clients import register_cds_client

            registered["cds_issuer"] = args.cds_issuer or registered["client_id"]
            register_cds_client(database, registered["client_id"], registered["cds_issuer"])
    _print(registered)


def practitioner_named(name: str) -> dict:
    """A Practitioner for `--name "Ada Lovelace"`: the last word is the family name (R4 HumanName)."""
    words = name.split()
    human: dict = {"use": "official", "text": " ".join(words), "family": words[-1]}
    if len(words) > 1:
        human["given"] = words[:-1]
    return {"resourceType": "Practitioner", "active": True, "name": [human]}


def cmd_user_create(args) -> None:
    from .auth.users import create_user

    kind, _, practitioner_id = args.fhir_user.partition("/")
    if args.name is not None and (kind != "Practitioner" or not args.name.split()):
        sys.exit("--name creates the Practitioner the user is: give --fhir-user Practitioner/ID and a name")
    with _open_database() as database:
        try:
            user = create_user(database, args.username, args.password, args.fhir_user)
        except ValueError as error:
            sys.exit(str(error))
        printed: dict = {"username": user.username, "fhir_user": user.fhir_user}
        if args.name is not None:
            printed["practitioner"] = _write_practitioner(database, practitioner_id, practitioner_named(args.name))
    _print(printed)


def _write_practitioner(database, id: str, resource: dict) -> dict:
    """Create (or update) Practitioner/ID through the update interaction, as `PUT /fhir/Practitioner/ID` would."""
    from . import build_services
    from .auth.guard import Guard
    from .auth.policy import AccessPolicy
    from .auth.scopes import parse_scopes
    from .fhir.outcomes import FhirError
    from .interactions.context import RequestContext
    from .interactions.write import update

    services = build_services(Settings.from_env(), database)
    policy = AccessPolicy(tuple(parse_scopes("system/Practitioner.cu")), subject="fhir-server-cli")
    ctx = RequestContext(services, Guard(policy, services.base_url))
    try:
        version, created = update(ctx, "Practitioner", id, {**resource, "id": id}, None)
    except FhirError as error:
        sys.exit("; ".join(issue.diagnostics for issue in error.issues))
    return {"id": id, "version": version.version_id, "created": created}


def cmd_launch_create(args) -> None:
    from .auth.launch import LAUNCH_LIFETIME_SECONDS, create_launch

    with _open_database() as database:
        launch = create_launch(database, args.patient, args.encounter, args.user)
    _print({"launch": launch, "expires_in": LAUNCH_LIFETIME_SECONDS})


def cmd_reindex(args) -> None:
    import time

    from tqdm import tqdm

    from . import build_services
    from .interactions.reindex import count_to_reindex, reindex
    from .storage.database import Database

    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=1)
        database.open()
        services = build_services(settings, database)
        try:
            started = time.monotonic()
            with tqdm(total=count_to_reindex(services), unit="res", file=sys.stderr, desc="reindex") as bar:
                done = reindex(services, args.batch_size, bar.update)
        finally:
            if services.audit is not None:
                services.audit.flush()  # the run's AuditEvent, before the database closes
            database.close()
        _print({"reindexed": done, "seconds": round(time.monotonic() - started, 2)})


def cmd_import(args) -> None:
    """Load NDJSON files and Bundles; progress on stderr, the summary on stdout; exit 1 if any record failed."""
    from pathlib import Path

    from tqdm import tqdm

    from . import build_services
    from .interactions.bulk_import import import_paths
    from .storage.database import Database

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"not a file: {', '.join(missing)}")
    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=1)
        database.open()
        try:
            with tqdm(
                total=1000,
                file=sys.stderr,
                desc="import",
                unit="‰",
                bar_format=("{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"),
            ) as bar:

                def progress(fraction, summary):
                    bar.update(max(0, round(fraction * 1000) - bar.n))
                    rate = summary.stored / summary.seconds if summary.seconds else 0
                    bar.set_postfix_str(f"{summary.stored} stored, {summary.failed} failed, {rate:.0f} resources/s")

                summary = import_paths(build_services(settings, database), paths, progress, args.workers)
        finally:
            database.close()
    _print(summary.as_json())
    if summary.failed:
        sys.exit(1)


def cmd_export(args) -> None:
    """A Bulk Data export run here, as a worker runs one (system/*.rs); files in --out, the manifest on stdout."""
    from pathlib import Path

    from tqdm import tqdm

    from . import build_exports, build_services
    from .bulk.files import FlatDirectoryStore
    from .bulk.worker import run_here
    from .fhir.outcomes import FhirError
    from .interactions.export import ExportRequest
    from .storage.database import Database

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    types = tuple(t.strip() for t in args.type.split(",") if t.strip()) if args.type else None
    request = ExportRequest("group" if args.group else "system", args.group, types, args.since)
    claims = {"scope": "system/*.rs", "sub": "operator", "client_id": "fhir-server-cli"}
    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=2)
        database.open()
        try:
            exports = build_exports(settings)
            exports.store = FlatDirectoryStore(out)
            with tqdm(total=0, unit="res", file=sys.stderr, desc="export") as bar:

                def progress(done, total):
                    bar.total = total
                    bar.update(done - bar.n)

                status, job = run_here(build_services(settings, database), exports, request, claims, progress)
        except FhirError as error:
            sys.exit(f"export refused: {error}")
        finally:
            database.close()
    if status != "completed":
        _print({"status": status, "error": job.error if job else None})
        sys.exit(1)
    manifest = job.manifest
    assert manifest is not None  # a completed job has its manifest
    for item in manifest["output"] + manifest["error"]:
        item["url"] = (out / item["url"].rpartition("/")[2]).as_uri()
    _print({**manifest, "requiresAccessToken": False})


def cmd_serve(args) -> None:
    from .wsgi import serve

    with _database_settings(Settings.from_env(args.host, args.port)) as settings:
        _migrate(settings)
        serve(settings, workers=args.workers, threads=args.threads)


def cmd_audit_export(args) -> None:
    """AuditEvents recorded since an instant as NDJSON (for a SIEM); progress on stderr, summary on stdout."""
    import time

    from tqdm import tqdm

    from . import build_services
    from .interactions.audit_export import export_audit_events
    from .interactions.context import operator_context
    from .storage.database import Database

    with _database_settings(Settings.from_env()) as settings:
        _migrate(settings)
        database = Database(settings.database_url, pool_size=1)
        database.open()
        started = time.monotonic()
        services = build_services(settings, database)
        try:
            ctx = operator_context(services, "audit-export")
            with open(args.out, "wb") as out, tqdm(unit="ev", file=sys.stderr, desc="audit export") as bar:
                count = export_audit_events(ctx, args.since, cast("Callable[[bytes], None]", out.write), bar.update)
        finally:
            if services.audit is not None:
                services.audit.flush()  # the run's own AuditEvent, before the database closes
            database.close()
    _print(
        {"exported": count, "since": args.since, "out": str(args.out), "seconds": round(time.monotonic() - started, 2)}
    )


def _instant(text: str) -> str:
    """--since: a FHIR instant or dateTime (search.html#date: the start of its range is the bound)."""
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?", text):
        raise argparse.ArgumentTypeError(f"--since must be an instant such as 2026-12-01T00:00:00Z, not {text!r}")
    return text


def _lifetime(text: str) -> int:
    """Like the token endpoint: an access token lives at most an hour (SMART: expires_in <= 3600)."""
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise argparse.ArgumentTypeError("must be a whole number of seconds from 1 to 3600")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fhir-server", description="FHIR R4 server for medication management")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the FHIR API at http://HOST:PORT/fhir")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("FHIR_WORKERS", os.cpu_count() or 1)))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("FHIR_THREADS", 4)))
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)

    reindex = commands.add_parser("reindex", help="recompute every search index from the stored resources")
    reindex.add_argument("--batch-size", type=int, default=500)
    reindex.set_defaults(handler=cmd_reindex)

    token = commands.add_parser("token", help="mint an access token, as the token endpoint would")
    token.add_argument("--scope", required=True, help='e.g. "system/*.cruds" or "patient/*.rs"')
    token.add_argument("--patient", help="launch context patient id (for patient/ scopes)")
    token.add_argument("--fhir-user", help="fhirUser reference, e.g. Practitioner/7")
    token.add_argument("--lifetime", type=_lifetime, default=3600, help="seconds, 1 to 3600 (default 3600)")
    token.set_defaults(handler=cmd_token)
    _admin_parsers(commands)

    load = commands.add_parser(
        "import",
        help="load NDJSON files and batch/transaction/collection Bundles "
        "(every resource validated; bad records reported, never stored; exit 1 if any)",
    )
    load.add_argument("paths", nargs="+", metavar="PATH", help="*.ndjson (one resource a line) or *.json")
    load.add_argument("--workers", type=int, default=None, help="validating processes (default: one per core)")
    load.set_defaults(handler=cmd_import)

    export = commands.add_parser("export", help="run a Bulk Data export into a folder; prints its manifest")
    export.add_argument("--type", help="resource types, comma-separated (default: every type)")
    export.add_argument("--since", help="only resources changed after this instant, e.g. 2026-01-01T00:00:00Z")
    export.add_argument("--group", help="a Group id: export its members' compartments")
    export.add_argument("--out", required=True, help="folder for the NDJSON files")
    export.set_defaults(handler=cmd_export)
    audit = commands.add_parser("audit", help="the AuditEvent trail").add_subparsers(dest="action", required=True)
    audit_export = audit.add_parser("export", help="write the AuditEvents recorded since INSTANT as NDJSON (SIEM)")
    audit_export.add_argument("--since", required=True, type=_instant, help="e.g. 2026-12-01T00:00:00Z")
    audit_export.add_argument("--out", default="audit-events.ndjson", help="NDJSON file (default: audit-events.ndjson)")
    audit_export.set_defaults(handler=cmd_audit_export)
    return parser


def _admin_parsers(commands) -> None:
    client = commands.add_parser("client", help="register SMART client apps").add_subparsers(
        dest="action", required=True
    )
    create = client.add_parser("create", help="register an app; prints its client_id (and secret)")
    create.add_argument("--name", required=True)
    create.add_argument("--redirect-uri", action="append", help="exact redirect URI (repeatable)")
    create.add_argument("--scope", required=True, help='the most the app may be granted, e.g. "patient/*.rs"')
    kind = create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--public", action="store_true", help="no secret; PKCE only")
    kind.add_argument("--confidential", action="store_true", help="a secret, or private_key_jwt with a JWKS")
    create.add_argument("--jwks-file", help="the app's public JWKS (private_key_jwt, RS384 or ES384)")
    create.add_argument("--jwks-url", help="where the app publishes its JWKS")
    create.add_argument(
        "--cds-hooks",
        action="store_true",
        help="a CDS Hooks client (an EHR) that calls /cds-services with JWTs signed by its JWKS",
    )
    create.add_argument("--cds-issuer", help="the iss of its JWTs (default: the new client_id)")
    create.set_defaults(handler=cmd_client_create)

    user = commands.add_parser("user", help="manage users who log in").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user (or reset an existing one's password)")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--fhir-user", required=True, help="Practitioner/ID or Patient/ID")
    create.add_argument("--name", help='also create (or update) the Practitioner the user is, e.g. "Ada Lovelace"')
    create.set_defaults(handler=cmd_user_create)

    launch = commands.add_parser("launch", help="EHR launch contexts").add_subparsers(dest="action", required=True)
    create = launch.add_parser("create", help="an opaque single-use launch id for an EHR launch")
    create.add_argument("--patient", required=True)
    create.add_argument("--encounter")
    create.add_argument("--user", help="the user the launch is for: username or fhirUser reference")
    create.set_defaults(handler=cmd_launch_create)


def main(argv: list[str] | None = None) -> None:
    configure_logging(os.environ.get("FHIR_LOG_LEVEL", "INFO"))
    args = _parser().parse_args(argv)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
