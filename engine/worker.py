"""The timer worker loop: fire due timers until told to stop; stops cleanly on SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from engine.services.context import Context
from engine.services.timers import fire_due

log = logging.getLogger("zhunru.worker")


class Worker:
    """Polls for due timers. Safe to run many at once on PostgreSQL (see services/timers)."""

    def __init__(self, ctx: Context, poll_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds or ctx.settings.worker_poll_seconds
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the current transaction, then the loop ends."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping after the current timer", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run_once(self) -> int:
        result = fire_due(self.ctx)
        if result.instances:
            log.info("fired %s timers on %s instances", result.timers, result.instances)
        return result.instances

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep the worker alive; the transaction was rolled back
                log.exception("firing timers failed; retrying after a pause")
                busy = 0
            if not busy:
                self.stopping.wait(self.poll_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="zhunru-worker", daemon=True)
        thread.start()
        return thread
