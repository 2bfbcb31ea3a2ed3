"""FHIR date, dateTime and instant values of any precision, turned into the range [low, high) they
cover (R4 search.html#date: the precision of the value defines its implicit range)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_DATE_TIME = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d{1,9})?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _add_month(moment: datetime) -> datetime:
    return (
        moment.replace(year=moment.year + 1, month=1) if moment.month == 12 else moment.replace(month=moment.month + 1)
    )


def _timezone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC  # a time without offset is read as UTC, the server's time zone
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def parse_range(text: str) -> tuple[datetime, datetime]:
    """The range [low, high) that a date, dateTime or instant of any precision covers."""
    if len(text) == 27 and text[19] == "." and text[-1] == "Z" and text[20:26].isdigit():
        # the server's own instants (meta.lastUpdated, AuditEvent.recorded): UTC, microseconds
        low = datetime.fromisoformat(text)
        return low, low + timedelta(microseconds=1)
    return _parse_range(text)


def _parse_range(text: str) -> tuple[datetime, datetime]:
    match = _DATE_TIME.match(text)
    if not match:
        raise ValueError(text)
    part = {k: v for k, v in match.groupdict().items() if v is not None}
    zone = _timezone(part.get("tz"))
    low = datetime(
        int(part["year"]),
        int(part.get("month", 1)),
        int(part.get("day", 1)),
        int(part.get("hour", 0)),
        int(part.get("minute", 0)),
        int(part.get("second", 0)),
        int(part.get("fraction", ".0")[1:7].ljust(6, "0")),  # microseconds, digits beyond truncated (no float)
        tzinfo=zone,
    )
    if "fraction" in part:
        high = low + timedelta(microseconds=1)
    elif "second" in part:
        high = low + timedelta(seconds=1)
    elif "minute" in part:
        high = low + timedelta(minutes=1)
    elif "day" in part:
        high = low + timedelta(days=1)
    elif "month" in part:
        high = _add_month(low)
    else:
        high = low.replace(year=low.year + 1)
    return low, high
