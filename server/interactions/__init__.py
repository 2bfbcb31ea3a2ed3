"""One plain function per FHIR interaction, named as the spec names it (R4 http.html)."""
