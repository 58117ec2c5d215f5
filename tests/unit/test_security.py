"""Passwords and bearer tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import Unauthenticated
from engine.security import hash_password, issue_token, read_token, verify_password

SECRET = "s" * 40
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("正确的密码 correct")
    assert stored.startswith("$argon2")
    assert verify_password(stored, "正确的密码 correct")
    assert not verify_password(stored, "wrong")
    assert not verify_password("not-a-hash", "wrong")


def test_token_is_valid_until_it_expires_by_the_service_clock() -> None:
    token = issue_token(42, SECRET, 3600, NOW)
    assert read_token(token, SECRET, NOW + timedelta(minutes=59)) == 42
    with pytest.raises(Unauthenticated):
        read_token(token, SECRET, NOW + timedelta(hours=1, seconds=1))


def test_token_signed_with_another_secret_or_mangled_is_refused() -> None:
    token = issue_token(42, SECRET, 3600, NOW)
    with pytest.raises(Unauthenticated):
        read_token(token, "x" * 40, NOW)
    with pytest.raises(Unauthenticated):
        read_token(token[:-2] + "AA", SECRET, NOW)
    with pytest.raises(Unauthenticated):
        read_token("not.a.token", SECRET, NOW)
