"""fhir-server: serve | migrate | token. Each command prints one JSON object on stdout; logs go to stderr."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from contextlib import contextmanager

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
        _print(service.mint(args.scope, args.lifetime, subject=args.fhir_user or "operator",
                            client_id="fhir-server-cli", patient=args.patient, fhir_user=args.fhir_user))


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
        registered = register_client(database, name=args.name, redirect_uris=args.redirect_uri or [],
                                     scope=args.scope, public=args.public, jwks=jwks, jwks_url=args.jwks_url)
        if args.cds_hooks:
            from .auth.cds_clients import register_cds_client
            registered["cds_issuer"] = args.cds_issuer or registered["client_id"]
            register_cds_client(database, registered["client_id"], registered["cds_issuer"])
    _print(registered)


def cmd_user_create(args) -> None:
    from .auth.users import create_user
    with _open_database() as database:
        try:
            user = create_user(database, args.username, args.password, args.fhir_user)
        except ValueError as error:
            sys.exit(str(error))
    _print({"username": user.username, "fhir_user": user.fhir_user})


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
        try:
            services = build_services(settings, database)
            started = time.monotonic()
            with tqdm(total=count_to_reindex(services), unit="res", file=sys.stderr, desc="reindex") as bar:
                done = reindex(services, args.batch_size, bar.update)
        finally:
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
            with tqdm(total=1000, file=sys.stderr, desc="import", unit="‰", bar_format=(
                    "{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}")) as bar:
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


def cmd_serve(args) -> None:
    from .wsgi import serve
    with _database_settings(Settings.from_env(args.host, args.port)) as settings:
        _migrate(settings)
        serve(settings, workers=args.workers, threads=args.threads)


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

    load = commands.add_parser("import", help="load NDJSON files and batch/transaction/collection Bundles "
                               "(every resource validated; bad records reported, never stored; exit 1 if any)")
    load.add_argument("paths", nargs="+", metavar="PATH", help="*.ndjson (one resource a line) or *.json")
    load.add_argument("--workers", type=int, default=None, help="validating processes (default: one per core)")
    load.set_defaults(handler=cmd_import)
    return parser


def _admin_parsers(commands) -> None:
    client = commands.add_parser("client", help="register SMART client apps").add_subparsers(dest="action", required=True)
    create = client.add_parser("create", help="register an app; prints its client_id (and secret)")
    create.add_argument("--name", required=True)
    create.add_argument("--redirect-uri", action="append", help="exact redirect URI (repeatable)")
    create.add_argument("--scope", required=True, help='the most the app may be granted, e.g. "patient/*.rs"')
    kind = create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--public", action="store_true", help="no secret; PKCE only")
    kind.add_argument("--confidential", action="store_true", help="a secret, or private_key_jwt with a JWKS")
    create.add_argument("--jwks-file", help="the app's public JWKS (private_key_jwt, RS384 or ES384)")
    create.add_argument("--jwks-url", help="where the app publishes its JWKS")
    create.add_argument("--cds-hooks", action="store_true",
                        help="a CDS Hooks client (an EHR) that calls /cds-services with JWTs signed by its JWKS")
    create.add_argument("--cds-issuer", help="the iss of its JWTs (default: the new client_id)")
    create.set_defaults(handler=cmd_client_create)

    user = commands.add_parser("user", help="manage users who log in").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user (or reset an existing one's password)")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--fhir-user", required=True, help="Practitioner/ID or Patient/ID")
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
