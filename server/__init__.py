"""FHIR R4 server for psychiatric medication management. create_app() is the one wiring point."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from .auth.keys import ensure_signing_keys
from .auth.tokens import TokenService
from .clinical.knowledge import load as load_knowledge
from .config import Settings
from .http.access_log import AccessLog
from .http.base_slash import BaseSlash
from .http.cors import Cors
from .http.errors import register_error_handlers
from .http.health import health
from .http.auth_routes import register_smart
from .http.keys import keys
from .http.smart_configuration import discovery
from .http.bundle_routes import bundle_blueprint
from .http.cds_routes import cds
from .http.operations import operations_blueprint
from .http.routes import fhir_blueprint
from .http.terminology_routes import terminology_blueprint
from .interactions.capabilities import IMPLEMENTED_INTERACTIONS, SOFTWARE_VERSION
from .interactions.context import Services
from .search.registry import Registry
from .storage.database import Database
from .validation import Validator


def build_services(settings: Settings, database: Database) -> Services:
    return Services(database=database,
                    registry=Registry.load(settings.resources_dir, IMPLEMENTED_INTERACTIONS),
                    validator=Validator(settings.profiles_dir, settings.required_profiles,
                                        settings.validation_strict),
                    base_url=settings.base_url,
                    default_page_size=settings.default_page_size,
                    max_page_size=settings.max_page_size,
                    allow_dangling_references=settings.allow_dangling_references,
                    allow_cascade_delete=settings.allow_cascade_delete,
                    allow_multiple_delete=settings.allow_multiple_delete,
                    practitioner_access=settings.practitioner_access)


def _openapi_config(app: Flask) -> None:
    app.config.update(
        API_TITLE="FHIR medication server", API_VERSION=SOFTWARE_VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/")


def create_app(settings: Settings, database: Database | None = None) -> Flask:
    """The Flask app: FHIR routes, health, JWKS, OpenAPI docs; opens its own pool unless given one."""
    if database is None:
        database = Database(settings.database_url, settings.pool_size, settings.pool_timeout_seconds)
        database.open()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    _openapi_config(app)
    services = build_services(settings, database)
    app.extensions["fhir.services"] = services
    app.extensions["fhir.on_shutdown"] = []  # callables run once a server worker's requests are done (SIGTERM)
    app.extensions["fhir.knowledge"] = load_knowledge(settings.resources_dir / "clinical")
    app.extensions["fhir.tokens"] = TokenService(ensure_signing_keys(database), settings.base_url,
                                                 settings.base_url, settings.token_leeway_seconds)
    api = Api(app)
    api.register_blueprint(fhir_blueprint(services.registry.types))
    api.register_blueprint(operations_blueprint(services.registry.types))
    api.register_blueprint(bundle_blueprint())
    api.register_blueprint(terminology_blueprint())
    app.register_blueprint(health)
    app.register_blueprint(cds)
    app.register_blueprint(keys)
    register_smart(app, database, settings.base_url)
    app.register_blueprint(discovery)
    register_error_handlers(app)
    app.wsgi_app = AccessLog(Cors(BaseSlash(app.wsgi_app), settings.cors_origins))
    return app
