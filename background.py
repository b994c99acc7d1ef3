"""Work behind the console: a periodic daemon thread, and scoring what arrives when a classifier is installed.

Imports none of Earshot's start-up or job modules, so runtime.py, collectors/ and reputation/
can all use it without importing each other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from settings import Settings

log = logging.getLogger("earshot")


class PeriodicJob:
    """A daemon thread that calls `work` every `tick` seconds until stopped.

    One failed call is logged and never ends the job: a background loop must
    outlive any single bad run.
    """

    def __init__(self, name: str, work: Callable[[], object], tick: float):
        self.work = work
        self.tick = tick
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> PeriodicJob:
        """Start the thread; return the job."""
        self.thread.start()
        return self

    def _loop(self) -> None:
        """Call the work, then wait a tick, until asked to stop."""
        while not self.stopping.is_set():
            try:
                self.work()
            except Exception:
                log.exception("%s failed; trying again in %.0fs", self.thread.name, self.tick)
            self.stopping.wait(self.tick)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish after its current call, and wait for it."""
        self.stopping.set()
        self.thread.join(timeout)


def classify_pending(db, settings: Settings, echo: Callable[[str], None] = log.info) -> int:
    """Score unscored mentions; returns how many were scored (0 when no model is available)."""
    try:
        from classifier import pipeline
        from classifier.model import ModelUnavailable
    except ImportError as exc:
        echo(f"classifier not available ({exc}); new mentions stay unscored")
        return 0
    try:
        return pipeline.classify_pending(db, settings, echo=echo)
    except ModelUnavailable as exc:
        echo(f"classifier model could not load ({exc}); new mentions stay unscored")
        return 0
