"""The authorization server's registrations and pending state: clients, users, EHR launches and
authorizations in progress. Secrets arrive here already hashed."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scope: str
    auth_method: str
    secret_hash: str | None
    jwks: dict | None
    jwks_url: str | None


def insert_client(conn: psycopg.Connection, client: ClientRow) -> None:
    conn.execute(
        "INSERT INTO oauth_clients (client_id, name, redirect_uris, scope, auth_method, secret_hash, jwks, jwks_url)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            client.client_id,
            client.name,
            list(client.redirect_uris),
            client.scope,
            client.auth_method,
            client.secret_hash,
            Jsonb(client.jwks) if client.jwks is not None else None,
            client.jwks_url,
        ),
    )


def load_client(conn: psycopg.Connection, client_id: str) -> ClientRow | None:
    row = conn.execute(
        "SELECT client_id, name, redirect_uris, scope, auth_method, secret_hash, jwks, jwks_url"
        " FROM oauth_clients WHERE client_id = %s",
        (client_id,),
    ).fetchone()
    if row is None:
        return None
    return ClientRow(row[0], row[1], tuple(row[2]), *row[3:])


def upsert_user(conn: psycopg.Connection, username: str, password_hash: str, fhir_user: str) -> None:
    conn.execute(
        "INSERT INTO auth_users (username, password_hash, fhir_user) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
        " fhir_user = excluded.fhir_user",
        (username, password_hash, fhir_user),
    )


def load_user(conn: psycopg.Connection, username: str) -> tuple[str, str] | None:
    """(password_hash, fhir_user) of a user, or None."""
    row = conn.execute("SELECT password_hash, fhir_user FROM auth_users WHERE username = %s", (username,)).fetchone()
    return (row[0], row[1]) if row else None


def update_password_hash(conn: psycopg.Connection, username: str, password_hash: str) -> None:
    conn.execute("UPDATE auth_users SET password_hash = %s WHERE username = %s", (password_hash, username))


def insert_launch(conn: psycopg.Connection, launch_hash: str, context: dict, lifetime: int) -> None:
    conn.execute(
        "INSERT INTO auth_launches (launch_hash, context, expires_at)"
        " VALUES (%s, %s, now() + make_interval(secs => %s))",
        (launch_hash, Jsonb(context), lifetime),
    )


def consume_launch(conn: psycopg.Connection, launch_hash: str) -> dict | None:
    """The launch's context, deleted in the same statement: a launch id works once."""
    row = conn.execute(
        "DELETE FROM auth_launches WHERE launch_hash = %s RETURNING context, expires_at > now()", (launch_hash,)
    ).fetchone()
    return row[0] if row and row[1] else None


def insert_request(
    conn: psycopg.Connection, request_hash: str, client_id: str, params: dict, context: dict, lifetime: int
) -> None:
    conn.execute(
        "INSERT INTO auth_requests (request_hash, client_id, params, context, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
        (request_hash, client_id, Jsonb(params), Jsonb(context), lifetime),
    )


def load_request(conn: psycopg.Connection, request_hash: str) -> tuple[dict, dict] | None:
    """(params, context) of a live pending authorization."""
    row = conn.execute(
        "SELECT params, context FROM auth_requests WHERE request_hash = %s AND expires_at > now()", (request_hash,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def merge_request_context(conn: psycopg.Connection, request_hash: str, context: dict) -> None:
    conn.execute(
        "UPDATE auth_requests SET context = context || %s WHERE request_hash = %s", (Jsonb(context), request_hash)
    )


def consume_request(conn: psycopg.Connection, request_hash: str) -> tuple[dict, dict] | None:
    """(params, context), deleted in the same statement: one decision per authorization."""
    row = conn.execute(
        "DELETE FROM auth_requests WHERE request_hash = %s RETURNING params, context, expires_at > now()",
        (request_hash,),
    ).fetchone()
    return (row[0], row[1]) if row and row[2] else None


def delete_expired(conn: psycopg.Connection) -> None:
    """Housekeeping: drop rows that can no longer be used."""
    for table in (
        "auth_launches",
        "auth_requests",
        "auth_codes",
        "client_assertion_jtis",
        "token_revocations",
        "refresh_tokens",
    ):
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE expires_at < now() - interval '1 day'").format(sql.Identifier(table))
        )
