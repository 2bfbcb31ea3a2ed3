"""FHIR vocabulary shared by every layer: models, outcomes, bundles, references."""
