"""Refresh may narrow scopes, never widen them, compared as SMART scopes (scopes-and-launch-context.html)."""

from __future__ import annotations

import pytest

from server.auth.scopes import is_narrowing


@pytest.mark.parametrize(
    "requested, granted",
    [
        ("patient/Condition.rs", "patient/*.rs"),
        ("patient/Condition.read", "patient/*.rs"),
        ("patient/Condition.r", "patient/*.read"),
        ("patient/Condition.rs?category=x", "patient/Condition.rs"),
        ("patient/Condition.rs?category=x", "patient/Condition.rs?category=x"),
        ("openid patient/*.rs", "openid fhirUser patient/*.cruds"),
        ("", "patient/*.rs"),
    ],
)
def test_narrower_scopes_are_within(requested, granted):
    assert is_narrowing(requested, granted)


@pytest.mark.parametrize(
    "requested, granted",
    [
        ("patient/*.rs", "patient/Condition.rs"),
        ("patient/Condition.rsd", "patient/*.rs"),
        ("user/Condition.rs", "patient/*.rs"),
        ("patient/Condition.rs", "patient/Condition.rs?category=x"),
        ("patient/Condition.rs?category=y", "patient/Condition.rs?category=x"),
        ("offline_access", "patient/*.rs"),
        ("patient/Condition.write", "patient/Condition.cu"),
    ],
)
def test_wider_scopes_are_not_within(requested, granted):
    assert not is_narrowing(requested, granted)
