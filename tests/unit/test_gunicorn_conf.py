"""The gunicorn hooks that shape a worker's life (the servers themselves are started in the
integration tests)."""

from __future__ import annotations

import gc

from api import gunicorn_conf


def test_a_worker_sets_what_start_up_made_aside_from_the_collector() -> None:
    """Once the app is built, what start-up made is frozen: a full collection no longer walks
    it (it took about 120 ms a time, landing on some request)."""
    gc.unfreeze()
    try:
        alive = len(gc.get_objects())
        assert gc.get_freeze_count() == 0
        gunicorn_conf.post_worker_init(None)
        assert gc.get_freeze_count() >= alive * 0.9
        assert len(gc.get_objects()) < alive // 10  # what a full collection still walks
    finally:
        gc.unfreeze()
