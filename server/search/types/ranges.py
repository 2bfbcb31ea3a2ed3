"""Prefix comparisons between a search range [low, high) and a row's range, in memory: the same
predicates, term for term, as the SQL of storage/index/ranges.py (R4 search.html#prefix)."""

from __future__ import annotations

RANGE_MATCHES = {
    "eq": lambda low, high, t_low, t_high: t_low >= low and t_low <= high and t_high <= high,
    "ne": lambda low, high, t_low, t_high: not (t_low >= low and t_high <= high),
    "gt": lambda low, high, t_low, t_high: t_high > high,
    "lt": lambda low, high, t_low, t_high: t_low < low,
    "ge": lambda low, high, t_low, t_high: t_high > high or (t_low >= low and t_high <= high),
    "le": lambda low, high, t_low, t_high: t_low < low or (t_low >= low and t_high <= high),
    "sa": lambda low, high, t_low, t_high: t_low >= high,
    "eb": lambda low, high, t_low, t_high: t_high <= low,
    "ap": lambda low, high, t_low, t_high: t_low < high and t_high > low,  # bounds already widened
}
