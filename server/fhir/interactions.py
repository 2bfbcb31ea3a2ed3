"""The FHIR RESTful interactions (R4 http.html, the `TypeRestfulInteraction` and `SystemRestfulInteraction`
code systems), named once; each knows the SMART v2 permission it needs (scopes-and-launch-context.html)."""

from __future__ import annotations

from enum import StrEnum


class Interaction(StrEnum):
    READ = "read"
    VREAD = "vread"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    HISTORY_INSTANCE = "history-instance"
    HISTORY_TYPE = "history-type"
    CREATE = "create"
    SEARCH_TYPE = "search-type"
    HISTORY_SYSTEM = "history-system"
    SEARCH_SYSTEM = "search-system"
    CAPABILITIES = "capabilities"
    BATCH = "batch"
    TRANSACTION = "transaction"
    OPERATION = "operation"  # an operation (R4 operations.html) asks the guard for the interaction it performs
    # the operator's commands that write through the write path (not RESTful interactions: no permission)
    IMPORT = "import"  # fhir-server import: stored versions of resources read from files
    REINDEX = "reindex"  # fhir-server reindex: index rows recomputed, no new version

    @property
    def permission(self) -> str | None:
        """The SMART v2 permission letter (c r u d s) this interaction needs; None when it needs none itself."""
        return _PERMISSION.get(self)


_PERMISSION = {
    Interaction.READ: "r",
    Interaction.VREAD: "r",
    Interaction.HISTORY_INSTANCE: "r",
    Interaction.SEARCH_TYPE: "s",
    Interaction.SEARCH_SYSTEM: "s",
    Interaction.HISTORY_TYPE: "s",
    Interaction.HISTORY_SYSTEM: "s",
    Interaction.CREATE: "c",
    Interaction.UPDATE: "u",
    Interaction.PATCH: "u",
    Interaction.DELETE: "d",
}
