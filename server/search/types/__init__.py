"""One module per search type (R4 search.html#ptypes), each owning what that type knows: the rows a
value becomes (extract), how a query value parses into a criterion (criterion), and whether a
resource's rows match it in memory (matches, agreeing with the SQL in storage/index/<same name>.py)."""

from __future__ import annotations

from . import date, quantity, reference, string, token, uri

SEARCH_TYPES = {
    "token": token,
    "reference": reference,
    "string": string,
    "date": date,
    "quantity": quantity,
    "uri": uri,
}
