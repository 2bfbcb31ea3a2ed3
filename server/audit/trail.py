"""The AuditEvent trail: a write listener that stores each write's AuditEvent in the write's own
statement (before commit), and a buffered writer that appends the other accesses (reads, searches,
failures, denials) in batches, flushed at least every 200 ms and at shutdown."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque

from ..fhir.interactions import Interaction
from ..interactions import write_path
from ..interactions.audit import Access
from ..interactions.context import RequestContext, Services, operator_context
from ..interactions.versions import new_id
from .events import audit_event, rendered_event

log = logging.getLogger("server.audit")
AUDIT_TYPE = "AuditEvent"
FLUSH_SECONDS = 0.2
MAX_BUFFERED = 100_000  # beyond, the oldest waiting are dropped (and counted in the log)
_STATUS = {"create": 201}


class AuditTrail(write_path.WriteListener):
    """One per process (services.audit and one of services.write_listeners)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.pending: deque[Access] = deque()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.stopping = False
        self.dropped = 0

    def bind(self, services: Services) -> None:
        self.services = services
        atexit.register(self.close)

    # -- writes: in the write's statement
    def before_commit(self, ctx: RequestContext, conn, changes: list[write_path.Prepared]) -> list[write_path.Prepared]:
        changes = [c for c in changes if c.resource_type != AUDIT_TYPE and c.interaction is not Interaction.REINDEX]
        if not changes:
            return []
        access = ctx.access
        if changes[0].interaction is Interaction.IMPORT:  # one AuditEvent per imported batch
            accesses = [
                Access(
                    Interaction.IMPORT,
                    None,
                    None,
                    [c.key for c in changes],
                    {c.patient_id for c in changes if c.patient_id},
                    200,
                )
            ]
        else:
            accesses = [
                Access(
                    c.interaction,
                    None,
                    c.resource_type,
                    [c.key],
                    {c.patient_id} if c.patient_id else set(),
                    _STATUS.get(c.interaction, 200),
                )
                for c in changes
            ]
        for one in accesses:
            one.policy, one.request_id = ctx.guard.policy, ctx.request_id
            if access is not None:
                one.address, one.method, one.path = access.address, access.method, access.path
        return [self.prepared(one) for one in accesses]

    def after_commit(self, ctx: RequestContext, changes: list[write_path.Prepared]) -> None:
        if ctx.access is not None and any(c.resource_type != AUDIT_TYPE for c in changes):
            ctx.access.written = True

    def prepared(self, access: Access) -> write_path.Prepared:
        services = self.services
        assert services is not None  # bound at startup, before anything is audited
        id = new_id()
        # an AuditEvent records what was asked for, existing or not: its references are not checked;
        # storage keeps it in the AuditEvent table, with no history row (and no vread)
        event = rendered_event(access, services.base_url, id)
        if event is not None:
            return write_path.rendered(AUDIT_TYPE, id, access.recorded, *event)
        definition = services.registry.get(AUDIT_TYPE)
        assert definition is not None  # AuditEvent is always registered
        return write_path.prepare(
            services,
            definition,
            audit_event(access, services.base_url),
            id,
            1,
            Interaction.CREATE,
            "POST",
            access.recorded,
            holders=[],
        )

    # -- everything else: buffered
    def append(self, access: Access) -> None:
        if len(self.pending) >= MAX_BUFFERED:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append(access)
        if self.thread is None or self.pid != os.getpid():  # started lazily: after a server worker forked
            self._start()

    def _start(self) -> None:
        with self.lock:
            if self.thread is not None and self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait(FLUSH_SECONDS)
            self.wake.clear()
            self.flush()

    def flush(self) -> int:
        """Store what is waiting, in one transaction; return how many."""
        with self.lock:
            batch = []
            while self.pending:
                batch.append(self.pending.popleft())
            if not batch:
                return 0
            try:
                assert self.services is not None  # bound at startup
                ctx = operator_context(self.services, "audit")
                with write_path.transaction(ctx) as conn:
                    write_path.commit(ctx, conn, [self.prepared(access) for access in batch])
            except Exception:
                log.exception("audit events not stored", extra={"count": len(batch)})
                return 0
            if self.dropped:
                log.error("audit buffer full: events dropped", extra={"count": self.dropped})
                self.dropped = 0
            return len(batch)

    def close(self) -> None:
        """Stop the writer and store what is left (at shutdown)."""
        self.stopping = True
        self.wake.set()
        if self.thread is not None and self.pid == os.getpid():
            self.thread.join(timeout=5)
        if self.services is not None and self.services.database is not None and not self.services.database.closed:
            self.flush()
