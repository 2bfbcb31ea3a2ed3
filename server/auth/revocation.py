"""Revoked tokens, as the resource server sees them. Every FHIR request checks its token here, so
the check is a set lookup: each process reloads the set of live revocations at most every
REFRESH_SECONDS (one small query), and a revocation made in this process applies at once."""

from __future__ import annotations

import threading
import time

from ..storage.auth_tokens import live_revocations, revoke
from ..storage.database import Database

REFRESH_SECONDS = 2.0


class RevocationList:
    def __init__(self, database: Database):
        self.database = database
        self._revoked: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def is_revoked(self, claims: dict) -> bool:
        revoked = self._current()
        if not revoked:
            return False
        return f"jti:{claims.get('jti')}" in revoked or ("grant" in claims and f"grant:{claims['grant']}" in revoked)

    def revoke_grant(self, grant_id: str, until: float) -> None:
        """A refresh token family and every access token issued from it (RFC 7009 section 2.1)."""
        self._record(f"grant:{grant_id}", until)

    def revoke_access_token(self, jti: str, until: float) -> None:
        self._record(f"jti:{jti}", until)

    def _record(self, revoked_id: str, until: float) -> None:
        with self.database.connection() as conn:
            revoke(conn, revoked_id, until)
        with self._lock:
            self._revoked = self._revoked | {revoked_id}

    def _current(self) -> frozenset[str]:
        if time.monotonic() - self._loaded_at < REFRESH_SECONDS:
            return self._revoked
        if not self._lock.acquire(blocking=self._loaded_at == float("-inf")):  # never loaded: nothing to fall back on
            # Another thread is reloading: the set it replaces is at most that reload older. Waiting here would
            # queue every request behind one query, and behind each pool timeout while the database is down.
            return self._revoked
        try:
            if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
                with self.database.connection() as conn:
                    self._revoked = frozenset(live_revocations(conn))
                self._loaded_at = time.monotonic()
            return self._revoked
        finally:
            self._lock.release()
