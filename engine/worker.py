"""The timer worker loop: fire due timers, send reminders of near deadlines, run the domains'
periodic jobs, send notices by e-mail and webhook, release stranded instances, until told to
stop; stops cleanly on SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from engine.services import delivery
from engine.workflow import jobs
from engine.workflow.context import Context
from engine.workflow.services import reminders, stranded
from engine.workflow.services.timers import fire_due

log = logging.getLogger("zhunru.worker")
# Seconds between looks for steps to remind and runs of the periodic jobs (a reminder or an
# escalation is a day's matter, not a second's).
REMIND_EVERY_SECONDS = 60.0


class Worker:
    """Polls for due timers. Safe to run many at once on PostgreSQL (see services/timers)."""

    def __init__(self, ctx: Context, poll_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds or ctx.settings.worker_poll_seconds
        self.stopping = threading.Event()
        self.sweep_seconds = ctx.settings.stranded_sweep_seconds
        self._next_sweep = 0.0  # at start, then every sweep_seconds
        self._next_reminders = 0.0  # at start, then every REMIND_EVERY_SECONDS

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

    def sweep_if_due(self) -> None:
        """Release stranded instances and count those left, every `sweep_seconds` (0: never)."""
        if self.sweep_seconds <= 0 or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.sweep_seconds
        left = stranded.sweep(self.ctx)
        if left:
            log.warning("%s stranded instances need an administrator", left)

    def remind_if_due(self) -> None:
        """Tell whoever holds a step that its last day is near, once per step."""
        if time.monotonic() < self._next_reminders:
            return
        self._next_reminders = time.monotonic() + REMIND_EVERY_SECONDS
        sent = reminders.send_due(self.ctx)
        if sent:
            log.info("reminded %s steps of their deadlines", sent)
        for name, job in jobs.registered().items():
            done = job(self.ctx)
            if done:
                log.info("%s: %s done", name, done)

    def deliver(self) -> None:
        """Queue new notices for e-mail and the webhook, and send what is due (each poll: a
        notice should not wait a minute; nothing to do is one indexed query)."""
        queued = delivery.dispatch(self.ctx)
        sent = delivery.send_due(self.ctx)
        if queued or sent:
            log.info("notices: %s queued, %s sent by e-mail or webhook", queued, sent)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.sweep_if_due()
                self.remind_if_due()
                self.deliver()
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
