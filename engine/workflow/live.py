"""Workflows kept alive between commands, in this process.

A command restores its instance's workflow from the stored state, runs it on and stores the
new state. Restoring is a fifth of a command's cost, and the next command on the same instance
in the same process would restore exactly the workflow the last one held. So a committed
command leaves its workflow here, under the digest of the state it stored; the next command
takes it if the stored state still has that digest, and restores as before if not (another
process or worker wrote since, an administrator moved it, the process restarted).

Only a workflow with a step open is kept: the instance is in hand and its next command is
likely soon. A matter in force, waiting on its timers and messages, may wait months, and its
workflow is the largest (about 200 KB in memory against 20 KB for a new filing).

Rules that keep it exact:
- a workflow goes in only when its transaction commits (a rolled-back command's workflow was
  run on and is thrown away), and with the digest of the very bytes that were committed;
- a command *takes* it out: one thread holds a workflow at a time, and a failed command leaves
  nothing behind;
- reads never use it: they restore their own copy from the stored state.
With `check` on (the tests), every hit is serialized and compared with the stored state, so a
kept workflow that differs from what a restore would give fails loudly.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "zhunru_live_workflows"


def digest(state: bytes) -> bytes:
    return hashlib.blake2b(state, digest_size=16).digest()


@dataclass(frozen=True)
class _Kept:
    deployment_id: int
    digest: bytes
    workflow: Any


class LiveWorkflows:
    """At most `size` workflows by instance id (least recently stored first out); 0: none."""

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self._kept: OrderedDict[int, _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, instance_id: int, deployment_id: int, state: bytes) -> Any | None:
        """The workflow the last command in this process stored as `state`, taken out; else
        None (restore it)."""
        if not self.size:
            return None
        with self._lock:
            kept = self._kept.pop(instance_id, None)
        if kept is None or kept.deployment_id != deployment_id or kept.digest != digest(state):
            self.misses += 1
            return None
        self.hits += 1
        return kept.workflow

    def keep_on_commit(
        self, session: Session, instance_id: int, deployment_id: int, state: bytes, workflow: Any
    ) -> None:
        """Keep `workflow` once the session's transaction commits with `state` stored (the
        last call for an instance in a transaction wins)."""
        if self.size:
            pending = session.info.setdefault(_PENDING, {})
            pending[instance_id] = (self, _Kept(deployment_id, digest(state), workflow))

    def _put(self, instance_id: int, kept: _Kept) -> None:
        with self._lock:
            self._kept[instance_id] = kept
            self._kept.move_to_end(instance_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


@event.listens_for(Session, "after_commit")
def _kept_on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    for instance_id, (live, kept) in session.info.pop(_PENDING, {}).items():
        live._put(instance_id, kept)


@event.listens_for(Session, "after_soft_rollback")
def _dropped_on_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)
