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


def cmd_serve(args) -> None:
    from .wsgi import serve
    with _database_settings(Settings.from_env(args.host, args.port)) as settings:
        _migrate(settings)
        serve(settings, workers=args.workers, threads=args.threads)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fhir-server", description="FHIR R4 server for medication management")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the FHIR API at http://HOST:PORT/fhir")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("FHIR_WORKERS", 2 * (os.cpu_count() or 1))))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("FHIR_THREADS", 4)))
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)

    token = commands.add_parser("token", help="mint an access token, as the token endpoint would")
    token.add_argument("--scope", required=True, help='e.g. "system/*.cruds" or "patient/*.rs"')
    token.add_argument("--patient", help="launch context patient id (for patient/ scopes)")
    token.add_argument("--fhir-user", help="fhirUser reference, e.g. Practitioner/7")
    token.add_argument("--lifetime", type=int, default=3600, help="seconds (default 3600)")
    token.set_defaults(handler=cmd_token)
    return parser


def main(argv: list[str] | None = None) -> None:
    configure_logging(os.environ.get("FHIR_LOG_LEVEL", "INFO"))
    args = _parser().parse_args(argv)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
