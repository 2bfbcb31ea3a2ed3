"""FHIR R4 server for psychiatric medication management. create_app() is the one wiring point."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from .audit.middleware import AuditMiddleware
from .audit.trail import AuditTrail
from .auth.keys import ensure_signing_keys
from .auth.tokens import TokenService
from .bulk.jobs import Exports, ExportSettings
from .bulk.worker import ExportWorker
from .clinical.knowledge import load as load_knowledge
from .config import Settings
from .http import request_metrics
from .http.access_log import AccessLog
from .http.auth_routes import register_smart
from .http.base_slash import BaseSlash
from .http.bulk_routes import bulk_blueprint
from .http.bundle_routes import bundle_blueprint
from .http.cds_routes import cds
from .http.clinical_routes import clinical_blueprint
from .http.cors import Cors
from .http.errors import register_error_handlers
from .http.health import health
from .http.keys import keys
from .http.metrics_route import TOKEN as METRICS_TOKEN
from .http.metrics_route import metrics
from .http.openapi_routes import openapi
from .http.operations import operations_blueprint
from .http.routes import fhir_blueprint
from .http.smart_configuration import discovery
from .http.terminology_routes import terminology_blueprint
from .interactions.capabilities import IMPLEMENTED_INTERACTIONS, SOFTWARE_VERSION
from .interactions.context import Services
from .search.registry import Registry
from .storage.database import Database
from .validation import Validator


def build_services(settings: Settings, database: Database) -> Services:
    """The process's services; with auditing on, the AuditEvent trail is its write listener and audit sink."""
    trail = AuditTrail() if settings.audit else None
    services = Services(
        database=database,
        registry=Registry.load(settings.resources_dir, IMPLEMENTED_INTERACTIONS),
        validator=Validator(settings.profiles_dir, settings.required_profiles, settings.validation_strict),
        base_url=settings.base_url,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        allow_dangling_references=settings.allow_dangling_references,
        allow_cascade_delete=settings.allow_cascade_delete,
        allow_multiple_delete=settings.allow_multiple_delete,
        practitioner_access=settings.practitioner_access,
        cors=bool(settings.cors_origins),
        write_listeners=[trail] if trail else [],
        audit=trail,
    )
    if trail:
        trail.bind(services)
    return services


def build_exports(settings: Settings) -> Exports:
    return Exports.local(
        ExportSettings(
            directory=settings.export_dir or settings.data_dir / "exports",
            ttl_seconds=settings.export_ttl_seconds,
            max_jobs_per_client=settings.export_max_jobs_per_client,
            file_resources=settings.export_file_resources,
            workers=settings.export_workers,
            lease_seconds=settings.export_lease_seconds,
        )
    )


def _openapi_config(app: Flask) -> None:
    # flask-smorest's own document would say nothing of FHIR: http/openapi.py writes the one served
    app.config.update(
        API_TITLE="FHIR medication server",
        API_VERSION=SOFTWARE_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=None,
    )


def create_app(settings: Settings, database: Database | None = None) -> Flask:
    """The Flask app: FHIR routes, health, JWKS, OpenAPI docs; opens its own pool unless given one."""
    if database is None:
        assert settings.database_url is not None  # the cli fills it: DATABASE_URL or the embedded server
        database = Database(settings.database_url, settings.pool_size, settings.pool_timeout_seconds)
        database.open()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    _openapi_config(app)
    services = build_services(settings, database)
    app.extensions["fhir.services"] = services
    app.extensions["fhir.on_shutdown"] = []  # callables run once a server worker's requests are done (SIGTERM)
    app.extensions["fhir.knowledge"] = load_knowledge(settings.resources_dir / "clinical")
    app.extensions["fhir.tokens"] = TokenService(
        ensure_signing_keys(database), settings.base_url, settings.base_url, settings.token_leeway_seconds
    )
    api = Api(app)
    api.register_blueprint(fhir_blueprint(services.registry.types))
    api.register_blueprint(operations_blueprint(services.registry.types))
    api.register_blueprint(clinical_blueprint())
    api.register_blueprint(bundle_blueprint())
    api.register_blueprint(bulk_blueprint())
    exports = app.extensions["fhir.exports"] = build_exports(settings)
    # every server process works the shared export queue (jobs claimed with SKIP LOCKED)
    app.extensions["fhir.export_workers"] = [
        ExportWorker(services, exports).start() for _ in range(settings.export_workers)
    ]
    api.register_blueprint(terminology_blueprint())
    app.register_blueprint(health)
    app.register_blueprint(cds)
    app.register_blueprint(keys)
    register_smart(app, database, settings.base_url)
    app.register_blueprint(discovery)
    register_error_handlers(app)
    app.register_blueprint(metrics)
    app.register_blueprint(openapi)
    app.extensions[METRICS_TOKEN] = settings.metrics_token
    request_metrics.install(app, database.pool)
    if services.audit is not None:  # innermost: it sees the path as routed, and the request id
        app.wsgi_app = AuditMiddleware(app.wsgi_app, services.audit)  # type: ignore[method-assign]  # Flask's idiom
    routed = Cors(BaseSlash(app.wsgi_app), settings.cors_origins)
    app.wsgi_app = AccessLog(routed, frozenset(services.registry.types))  # type: ignore[method-assign]  # Flask's idiom
    return app
