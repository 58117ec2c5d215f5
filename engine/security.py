"""Password hashing (argon2) and bearer tokens (JWT, HS256)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.errors import Unauthenticated

_hasher = PasswordHasher()
# Passwords the system issues are random (over 80 bits): guessing them is hopeless however fast
# the hash, so a light argon2 setting keeps a bulk import of hundreds of people to seconds.
# The person replaces it at first sign-in, and that one gets the full setting.
_issued_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_ALGORITHM = "HS256"
_ISSUER = "zhunru"
# Row ids are 1 to 2^31 - 1 (what every database's integer key holds); a token names one as
# its subject in canonical decimal, exactly as `issue_token` writes it.
MAX_USER_ID = 2**31 - 1
_SUBJECT = re.compile(r"[1-9][0-9]{0,9}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_issued_password(password: str) -> str:
    """The hash of a password the system generated (`people.temporary_password`) only."""
    return _issued_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, secret: str, ttl_seconds: int, now: datetime, epoch: int = 0) -> str:
    """A token for the user, carrying the session epoch it was issued in (`User.session_epoch`:
    a password change or deactivation raises it, and older tokens stop working)."""
    claims = {
        "sub": str(user_id),
        "ver": epoch,
        "iss": _ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, secret: str, now: datetime) -> tuple[int, int]:
    """Return the user id and session epoch in a valid token; raise Unauthenticated otherwise.

    Expiry is checked against the service's clock (`now`), the same one that issued it.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "iat"], "verify_exp": False, "verify_iat": False},
        )
        if not int(claims["iat"]) - 60 <= now.timestamp() < int(claims["exp"]):
            raise Unauthenticated("登录凭证无效或已过期，请重新登录")
        epoch = claims.get("ver", 0)
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise ValueError("token epoch is not an integer")
        return _user_id(claims.get("sub")), epoch
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthenticated("登录凭证无效或已过期，请重新登录") from exc


def _user_id(subject: object) -> int:
    """The subject as a row id; anything else (not a string of digits, 0, out of range) is
    refused here, before it reaches a query that could overflow the database's integer."""
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise ValueError("token subject is not a user id")
    user_id = int(subject)
    if user_id > MAX_USER_ID:
        raise ValueError("token subject is out of range")
    return user_id
