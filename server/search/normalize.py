"""String normalization shared by indexing and querying: R4 string search ignores case and accents."""

from __future__ import annotations

import unicodedata


def normalize(text: str) -> str:
    if text.isascii():  # nothing to decompose; casefold is lower for ASCII
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
