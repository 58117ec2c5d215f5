"""Names of organisations and users by id, cached briefly: reference data read on every response.

Organisations and usernames change rarely, and a stale name on a response for a minute is
harmless; authorization never reads from here (it reads the user's row on every request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Organization, User


@dataclass(frozen=True)
class OrgRef:
    code: str
    name: str


@dataclass(frozen=True)
class OrgPlace:
    """What never changes of an organisation once created: its id, level and county."""

    id: int
    level: str
    county_id: int | None


@dataclass(frozen=True)
class UserRef:
    username: str  # the sign-in name, for auditors' searches
    name: str  # how the person is named to others (their display name)


K = TypeVar("K")
V = TypeVar("V")


class _Cache(Generic[K, V]):  # noqa: UP046 (Python 3.11 has no PEP 695 syntax)
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: set[K], load: Callable[[set[K]], dict[K, V]]) -> dict[K, V]:
        now = self._clock()
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and now - entry[0] < self._ttl:
                    found[key] = entry[1]
        missing = keys - found.keys()
        if missing:
            loaded = load(missing)
            with self._lock:
                for key, value in loaded.items():
                    self._entries[key] = (now, value)
            found.update(loaded)
        return found


class Directory:
    def __init__(self, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._orgs: _Cache[int, OrgRef] = _Cache(ttl_seconds, clock)
        self._users: _Cache[int, UserRef] = _Cache(ttl_seconds, clock)
        # By code; kept for the process's life (organisations are retired, never deleted, and
        # keep their code, level and county), so a service task naming a township reads none.
        self._places: dict[str, OrgPlace] = {}

    def orgs(self, session: Session, ids: Iterable[int | None]) -> dict[int, OrgRef]:
        def load(missing: set[int]) -> dict[int, OrgRef]:
            rows = session.execute(
                select(Organization.id, Organization.code, Organization.name).where(
                    Organization.id.in_(missing)
                )
            )
            return {org_id: OrgRef(code, name) for org_id, code, name in rows}

        return self._orgs.get_many({i for i in ids if i is not None}, load)

    def place(self, session: Session, code: str) -> OrgPlace | None:
        """The organisation with this code, where it sits (None: no such organisation)."""
        found = self._places.get(code)
        if found is None:
            row = session.execute(
                select(Organization.id, Organization.level, Organization.county_id).where(
                    Organization.code == code
                )
            ).first()
            if row is None:
                return None
            found = self._places[code] = OrgPlace(*row)
        return found

    def users(self, session: Session, ids: Iterable[int | None]) -> dict[int, UserRef]:
        """Each user's sign-in name and display name, by id (one query for those not cached)."""

        def load(missing: set[int]) -> dict[int, UserRef]:
            rows = session.execute(
                select(User.id, User.username, User.display_name).where(User.id.in_(missing))
            )
            return {user_id: UserRef(username, name) for user_id, username, name in rows}

        return self._users.get_many({i for i in ids if i is not None}, load)

    def usernames(self, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
        return {user_id: ref.username for user_id, ref in self.users(session, ids).items()}
