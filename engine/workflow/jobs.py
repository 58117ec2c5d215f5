"""Periodic jobs a domain hands to the worker, which runs each about once a minute.

The core knows no domain: a domain registers its jobs (e.g. escalating resources still owed
past their last day) when the context is built, and the worker runs what is registered. A job
takes the context, does its work in its own transactions, exactly once across workers, and
says how many things it did.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.workflow.context import Context

Job = Callable[[Context], int]
_JOBS: dict[str, Job] = {}


def register_job(name: str, job: Job) -> None:
    """Have the worker run `job` periodically (registering a name again replaces it)."""
    _JOBS[name] = job


def registered() -> dict[str, Job]:
    return dict(_JOBS)
