"""capabilities (R4 http.html#capabilities): the CapabilityStatement, generated from the registry."""

from __future__ import annotations

from datetime import UTC, datetime

from ..auth.endpoints import AuthEndpoints, oauth_uris_extension
from ..fhir.interactions import Interaction
from ..search.includes import common_params, include_values, revinclude_values
from ..search.registry import Registry

# What the interactions package implements; a type offers the intersection with its definition file.
IMPLEMENTED_INTERACTIONS = frozenset(
    {
        Interaction.READ,
        Interaction.VREAD,
        Interaction.UPDATE,
        Interaction.DELETE,
        Interaction.HISTORY_INSTANCE,
        Interaction.HISTORY_TYPE,
        Interaction.CREATE,
        Interaction.SEARCH_TYPE,
        Interaction.PATCH,
    }
)
SYSTEM_INTERACTIONS = (
    Interaction.HISTORY_SYSTEM,
    Interaction.SEARCH_SYSTEM,
    Interaction.TRANSACTION,
    Interaction.BATCH,
)
# Operations (R4 operations.html), each declared with the canonical OperationDefinition it implements.
TYPE_OPERATIONS = ({"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"},)
PATIENT_OPERATIONS = (
    {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
    {
        "name": "medication-review",
        "definition": "https://github.com/fhir-medication-server/OperationDefinition/Patient-medication-review",
    },
    {
        "name": "follow-up-gaps",
        "definition": "https://github.com/fhir-medication-server/OperationDefinition/Patient-follow-up-gaps",
    },
)
GROUP_OPERATIONS = (
    {"name": "pdc", "definition": "https://github.com/fhir-medication-server/OperationDefinition/Group-pdc"},
)
# Bulk Data Access 2.0 (hl7.org/fhir/uv/bulkdata CapabilityStatement-bulk-data.html)
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"
EXPORT_OPERATIONS = {
    None: {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/export"},
    "Patient": {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/patient-export"},
    "Group": {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/group-export"},
}
SOFTWARE_VERSION = "0.1.0"


def _search_param(p) -> dict:
    declared = {"name": p.name, "definition": p.definition, "type": p.type, "documentation": p.documentation}
    return {k: v for k, v in declared.items() if v}


def _resource(
    registry: Registry, definition, multiple_delete: bool, references_enforced: bool, supported_profiles: dict
) -> dict:
    operations = list(TYPE_OPERATIONS) + (list(PATIENT_OPERATIONS) if definition.type == "Patient" else [])
    operations += list(GROUP_OPERATIONS) if definition.type == "Group" else []
    operations += [EXPORT_OPERATIONS[definition.type]] if definition.type in EXPORT_OPERATIONS else []
    return {
        "type": definition.type,
        "profile": definition.raw.get("profile", f"http://hl7.org/fhir/StructureDefinition/{definition.type}"),
        **(
            {"supportedProfile": supported_profiles[definition.type]} if supported_profiles.get(definition.type) else {}
        ),
        "interaction": [{"code": code} for code in definition.interactions],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "full-support",  # If-None-Match and If-Modified-Since (http/responses.not_modified)
        "conditionalUpdate": True,
        "conditionalDelete": "multiple" if multiple_delete else "single",
        "referencePolicy": ["literal", "local"] + (["enforced"] if references_enforced else []),
        "searchInclude": list(include_values(registry, definition.type)),
        "searchRevInclude": list(revinclude_values(registry, definition.type)),
        "searchParam": [_search_param(p) for p in sorted(definition.params.values(), key=lambda p: p.name)],
        "operation": operations,
    }


def capability_statement(
    registry: Registry,
    base_url: str,
    multiple_delete: bool = False,
    references_enforced: bool = True,
    supported_profiles: dict | None = None,
    read_only_resources: tuple = (),
    cors: bool = True,
) -> dict:
    """supported_profiles: type -> the profile urls the validator enforces; read_only_resources: the
    rest.resource entries of the shipped conformance resources (conformance_resources.py); cors: whether
    FHIR_CORS_ORIGINS lets browser apps call (R4 capabilitystatement-definitions.html#rest.security.cors)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "publisher": "FHIR medication server",
        "kind": "instance",
        "software": {"name": "fhir-medication-server", "version": SOFTWARE_VERSION},
        "implementation": {"description": "FHIR R4 server for psychiatric medication management", "url": base_url},
        "instantiates": [f"{BULK_DATA}/CapabilityStatement/bulk-data"],
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [oauth_uris_extension(AuthEndpoints(base_url))],
                    "cors": cors,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "Every request except metadata needs a Bearer access token with SMART scopes"
                    " (SMART App Launch 2.x; see .well-known/smart-configuration).",
                },
                "resource": [
                    _resource(registry, definition, multiple_delete, references_enforced, supported_profiles or {})
                    for definition in registry.definitions.values()
                ]
                + list(read_only_resources),
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "operation": [EXPORT_OPERATIONS[None]],
                "searchParam": [_search_param(p) for p in common_params(registry)],
            }
        ],
    }
