"""Passwords and bearer tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
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
    assert read_token(token, SECRET, NOW + timedelta(minutes=59)) == (42, 0)
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


@pytest.mark.parametrize(
    "subject",
    ["abc", "0", "-1", "01", " 1", "+1", "1.0", "", str(2**31), str(2**63), str(2**64), 7, None],
    ids=repr,
)
def test_a_token_whose_subject_is_no_row_id_is_refused(subject: object) -> None:
    claims = {"sub": subject, "iss": "zhunru", "iat": int(NOW.timestamp())}
    claims["exp"] = claims["iat"] + 600
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        read_token(token, SECRET, NOW)


def test_the_largest_row_id_is_a_valid_subject() -> None:
    assert read_token(issue_token(2**31 - 1, SECRET, 60, NOW), SECRET, NOW) == (2**31 - 1, 0)


def test_a_token_carries_the_session_epoch_it_was_issued_in() -> None:
    assert read_token(issue_token(7, SECRET, 60, NOW, epoch=3), SECRET, NOW) == (7, 3)


@pytest.mark.parametrize("epoch", ["1", 1.5, True, None, [1]], ids=repr)
def test_a_token_whose_epoch_is_no_integer_is_refused(epoch: object) -> None:
    claims = {"sub": "7", "iss": "zhunru", "iat": int(NOW.timestamp()), "ver": epoch}
    claims["exp"] = claims["iat"] + 600
    with pytest.raises(Unauthenticated):
        read_token(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET, NOW)
