"""A timer worker process for the reliability tests: `python -m tests.worker_process URL NOW`.

It is the production Worker with an injected clock fixed at NOW; it exits after a few empty polls.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

from engine.services.context import build_context
from engine.workflow.clock import ManualClock
from engine.workflow.services.timers import fire_due
from tests.conftest import make_settings


def main() -> None:
    url, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    ctx = build_context(make_settings(url), clock=ManualClock(now))
    empty = 0
    while empty < 6:
        # Small batches, so a kill lands between, or inside, transactions.
        if fire_due(ctx, limit=5).instances:
            empty = 0
        else:
            empty += 1
            time.sleep(0.25)
    ctx.db.dispose()


if __name__ == "__main__":
    main()
