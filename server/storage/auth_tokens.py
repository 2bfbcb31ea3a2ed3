"""Authorization codes, refresh tokens, revocations and client-assertion ids. Every check that
must hold under concurrency is one statement (RFC 6749 4.1.2: a code is used once)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class CodeRow:
    client_id: str
    redirect_uri: str
    scope: str
    context: dict
    code_challenge: str
    code_challenge_method: str
    grant_id: str


@dataclass(frozen=True)
class RefreshRow:
    grant_id: str
    client_id: str
    scope: str
    context: dict
    expires_at: float  # epoch seconds
    issued_at: float
    active: bool  # not revoked, rotated or expired
    rotated: bool = False  # replaced by a successor (public clients, RFC 9700 4.14.2)


def insert_code(conn: psycopg.Connection, code_hash: str, code: CodeRow, lifetime: int) -> None:
    conn.execute(
        "INSERT INTO auth_codes (code_hash, client_id, redirect_uri, scope, context, code_challenge,"
        " code_challenge_method, grant_id, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
        " now() + make_interval(secs => %s))",
        (
            code_hash,
            code.client_id,
            code.redirect_uri,
            code.scope,
            Jsonb(code.context),
            code.code_challenge,
            code.code_challenge_method,
            code.grant_id,
            lifetime,
        ),
    )


def consume_code(conn: psycopg.Connection, code_hash: str, client_id: str) -> CodeRow | None:
    """Mark a live, unused code used and return it; of two parallel calls exactly one gets the row."""
    row = conn.execute(
        "UPDATE auth_codes SET used_at = now() WHERE code_hash = %s AND client_id = %s AND used_at IS NULL"
        " AND expires_at > now() RETURNING client_id, redirect_uri, scope, context, code_challenge,"
        " code_challenge_method, grant_id",
        (code_hash, client_id),
    ).fetchone()
    return CodeRow(*row) if row else None


def used_code_grant(conn: psycopg.Connection, code_hash: str) -> str | None:
    """The grant of a code that was already used (a replay), or None."""
    row = conn.execute(
        "SELECT grant_id FROM auth_codes WHERE code_hash = %s AND used_at IS NOT NULL", (code_hash,)
    ).fetchone()
    return row[0] if row else None


def insert_refresh_token(
    conn: psycopg.Connection,
    token_hash: str,
    grant_id: str,
    client_id: str,
    scope: str,
    context: dict,
    lifetime: int,
    expires_at: float | None = None,
) -> None:
    """A refresh token living `lifetime` seconds, or until `expires_at` (epoch seconds) when given."""
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, context, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, coalesce(to_timestamp(%s::float8), now() + make_interval(secs => %s)))",
        (token_hash, grant_id, client_id, scope, Jsonb(context), expires_at, lifetime),
    )


_REFRESH_COLUMNS = (
    "grant_id, client_id, scope, context, extract(epoch FROM expires_at)::float8,"
    " extract(epoch FROM issued_at)::float8,"
    " revoked_at IS NULL AND rotated_at IS NULL AND expires_at > now(), rotated_at IS NOT NULL"
)


def load_refresh_token(conn: psycopg.Connection, token_hash: str) -> RefreshRow | None:
    row = conn.execute(
        "SELECT " + _REFRESH_COLUMNS + " FROM refresh_tokens WHERE token_hash = %s", (token_hash,)
    ).fetchone()
    return RefreshRow(*row) if row else None


def rotate_refresh_token(conn: psycopg.Connection, token_hash: str) -> bool:
    """Mark a live refresh token rotated; of two parallel uses exactly one gets True."""
    row = conn.execute(
        "UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = %s AND rotated_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > now() RETURNING 1",
        (token_hash,),
    ).fetchone()
    return row is not None


def revoke(conn: psycopg.Connection, revoked_id: str, expires_at: float) -> None:
    """Record a revocation (of 'grant:<id>' or 'jti:<jti>'), kept until `expires_at` (epoch seconds)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO token_revocations (revoked_id, expires_at) VALUES (%s, to_timestamp(%s))"
            " ON CONFLICT (revoked_id) DO UPDATE SET expires_at ="
            " greatest(token_revocations.expires_at, excluded.expires_at)",
            (revoked_id, expires_at),
        )
        if revoked_id.startswith("grant:"):
            conn.execute(
                "UPDATE refresh_tokens SET revoked_at = now() WHERE grant_id = %s AND revoked_at IS NULL",
                (revoked_id.removeprefix("grant:"),),
            )


def live_revocations(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT revoked_id FROM token_revocations WHERE expires_at > now()")}


def record_assertion_jti(conn: psycopg.Connection, client_id: str, jti: str, expires_at: float) -> bool:
    """True the first time this client presents this jti; one INSERT, so parallel replays get False."""
    row = conn.execute(
        "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES (%s, %s,"
        " to_timestamp(%s)) ON CONFLICT DO NOTHING RETURNING 1",
        (client_id, jti, expires_at),
    ).fetchone()
    return row is not None
