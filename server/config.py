"""Settings: one frozen object built once from the environment (see CONTRACT.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BODY_LIMIT = 16 * 1024 * 1024
PRACTITIONER_ACCESS = ("all", "assigned")
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


def _default_data_dir() -> Path:
    # CONTRACT.md: ./.fhir-data, or /var/lib/fhir-server when run as root (the embedded
    # PostgreSQL wheel chmods every parent of its data dir, harmless there).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/fhir-server")
    return Path(".fhir-data").resolve()


def _flag(env, name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _required_profiles(env) -> tuple[tuple[str, str], ...]:
    """FHIR_REQUIRED_PROFILES=Patient=us-core-patient,Condition=... -> (("Patient", "us-core-patient"), ...)."""
    pairs = []
    for item in filter(None, (part.strip() for part in env.get("FHIR_REQUIRED_PROFILES", "").split(","))):
        resource_type, _, profile = item.partition("=")
        if not resource_type.strip() or not profile.strip():
            raise ValueError(f"FHIR_REQUIRED_PROFILES: expected Type=profile, not {item!r}")
        pairs.append((resource_type.strip(), profile.strip()))
    return tuple(pairs)


def _validation_mode(env) -> bool:
    value = env.get("FHIR_VALIDATION", "").strip().lower() or "lenient"
    if value not in ("lenient", "strict"):
        raise ValueError(f"FHIR_VALIDATION must be lenient or strict, not {value!r}")
    return value == "strict"


def _cors_origins(env) -> tuple[str, ...]:
    """FHIR_CORS_ORIGINS: `*` (the default: tokens, not cookies, carry authority), `none`, or a list of origins."""
    value = env.get("FHIR_CORS_ORIGINS", "").strip() or "*"
    if value.lower() == "none":
        return ()
    origins = tuple(origin.rstrip("/") for origin in value.replace(",", " ").split())
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(f"FHIR_CORS_ORIGINS: {origin!r} is not an origin like https://app.example:8443")
    return origins


def _practitioner_access(env) -> str:
    value = env.get("FHIR_PRACTITIONER_ACCESS", "").strip().lower() or "all"
    if value not in PRACTITIONER_ACCESS:
        raise ValueError(f"FHIR_PRACTITIONER_ACCESS must be one of {', '.join(PRACTITIONER_ACCESS)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    base_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = DEFAULT_BODY_LIMIT
    default_page_size: int = 20
    max_page_size: int = 1000
    token_leeway_seconds: int = 30
    max_token_lifetime_seconds: int = 3600
    pool_size: int = 4
    pool_timeout_seconds: float = 1.5  # the longest a request waits for a database connection (then 503)
    header_timeout_seconds: float = 10.0  # to receive a request's head (then the connection is closed)
    body_timeout_seconds: float = 10.0  # to receive its whole body (then 408)
    metrics_token: str = ""  # GET /metrics needs it as a Bearer token; unset: loopback callers only
    shutdown_grace_seconds: float = 20.0  # SIGTERM: requests in flight may finish within this (CONTRACT: 30 s)
    allow_dangling_references: bool = False  # referential integrity (issue 5): off only on purpose
    allow_cascade_delete: bool = False  # DELETE ?_cascade=delete
    allow_multiple_delete: bool = False  # conditional delete of several matches
    practitioner_access: str = "all"  # a Practitioner's user/ scopes reach: all | assigned patients
    audit: bool = True  # FHIR_AUDIT=off: no AuditEvent trail (for measuring its cost only)
    export_dir: Path | None = None  # Bulk Data export files; None: <data dir>/exports
    export_ttl_seconds: int = 24 * 3600  # a completed export's files and manifest, then 404
    export_max_jobs_per_client: int = 3  # running or queued exports per client (429 above)
    export_file_resources: int = 100_000  # resources per NDJSON file
    export_workers: int = 1  # export worker threads per server process
    export_lease_seconds: float = 30.0  # a job whose worker stops renewing for this long is restarted
    required_profiles: tuple[tuple[str, str], ...] = ()  # FHIR_REQUIRED_PROFILES: (type, profile) pairs
    validation_strict: bool = False  # FHIR_VALIDATION=strict: an unknown meta.profile is an error
    cors_origins: tuple[str, ...] = ("*",)  # origins browser apps may call from; ("*",) any, () none
    resources_dir: Path = PROJECT_ROOT / "resources"
    profiles_dir: Path = PROJECT_ROOT / "profiles"
    migrations_dir: Path = PROJECT_ROOT / "migrations"

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", port: int = 8080, env=None) -> Settings:
        env = os.environ if env is None else env
        base_url = env.get("FHIR_BASE_URL") or f"http://{host}:{port}/fhir"
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env["FHIR_DATA_DIR"]).resolve() if env.get("FHIR_DATA_DIR") else _default_data_dir(),
            base_url=base_url.rstrip("/"),
            host=host,
            port=port,
            max_body_bytes=int(env.get("FHIR_MAX_BODY_BYTES", DEFAULT_BODY_LIMIT)),
            pool_size=int(env.get("FHIR_DB_POOL_SIZE", 4)),
            pool_timeout_seconds=float(env.get("FHIR_DB_POOL_TIMEOUT", 1.5)),
            header_timeout_seconds=float(env.get("FHIR_HEADER_TIMEOUT", 10)),
            body_timeout_seconds=float(env.get("FHIR_BODY_TIMEOUT", 10)),
            metrics_token=env.get("FHIR_METRICS_TOKEN", ""),
            shutdown_grace_seconds=min(float(env.get("FHIR_SHUTDOWN_GRACE", 20)), 24.0),
            allow_dangling_references=_flag(env, "FHIR_ALLOW_DANGLING_REFERENCES"),
            allow_cascade_delete=_flag(env, "FHIR_ALLOW_CASCADE_DELETE"),
            allow_multiple_delete=_flag(env, "FHIR_ALLOW_MULTIPLE_DELETE"),
            practitioner_access=_practitioner_access(env),
            audit=env.get("FHIR_AUDIT", "on").strip().lower() not in ("off", "0", "false", "no"),
            export_dir=Path(env["FHIR_EXPORT_DIR"]).resolve() if env.get("FHIR_EXPORT_DIR") else None,
            export_ttl_seconds=int(env.get("FHIR_EXPORT_TTL_SECONDS", 24 * 3600)),
            export_max_jobs_per_client=int(env.get("FHIR_EXPORT_MAX_JOBS_PER_CLIENT", 3)),
            export_file_resources=int(env.get("FHIR_EXPORT_FILE_RESOURCES", 100_000)),
            export_workers=int(env.get("FHIR_EXPORT_WORKERS", 1)),
            export_lease_seconds=float(env.get("FHIR_EXPORT_LEASE_SECONDS", 30)),
            required_profiles=_required_profiles(env),
            validation_strict=_validation_mode(env),
            cors_origins=_cors_origins(env),
        )
