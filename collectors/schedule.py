"""Background collection for `app.py run`: each configured source every poll_minutes, in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import store
from collectors.run import CollectionLocked, collect
from settings import Settings

log = logging.getLogger("earshot.collectors")

TICK_SECONDS = 30.0


def configured_sources(settings: Settings) -> list[str]:
    """The sources that are enabled and have their read credentials in the environment."""
    x, reddit = settings.sources.x, settings.sources.reddit
    found = []
    if x.enabled and settings.env(x.bearer_token_env):
        found.append("x")
    if reddit.enabled and settings.env(reddit.client_id_env) and settings.env(reddit.client_secret_env):
        found.append("reddit")
    return found


def due_sources(settings: Settings, now: datetime | None = None) -> list[str]:
    """Configured sources whose last run started at least poll_minutes ago (or never ran)."""
    now = now or datetime.now(UTC)
    db = store.connect(settings.db_path)
    try:
        due = []
        for name in configured_sources(settings):
            runs = store.collector_runs(db, name, limit=1)
            interval = timedelta(minutes=getattr(settings.sources, name).poll_minutes)
            if not runs or _parse(runs[0]["started_at"]) + interval <= now:
                due.append(name)
        return due
    finally:
        db.close()


def run_due(settings: Settings, echo: Callable[[str], None] = log.info) -> list[str]:
    """Collect every due source once (skipping quietly if a cron run holds the lock)."""
    due = due_sources(settings)
    if due:
        try:
            collect(settings, due, echo)
        except CollectionLocked as exc:
            log.info("%s", exc)
    return due


class Schedule:
    """A daemon thread that runs due sources every tick until stopped."""

    def __init__(self, settings: Settings, echo: Callable[[str], None], tick: float = TICK_SECONDS):
        self.settings = settings
        self.echo = echo
        self.tick = tick
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="earshot-collect", daemon=True)

    def _loop(self) -> None:
        """Run due sources, then sleep a tick; never let one failure end the schedule."""
        while not self.stopping.is_set():
            try:
                run_due(self.settings, self.echo)
            except Exception:  # noqa: BLE001 - a background loop must outlive any one bad run; it is logged
                log.exception("background collection failed; trying again in %.0fs", self.tick)
            self.stopping.wait(self.tick)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish after its current run, and wait for it."""
        self.stopping.set()
        self.thread.join(timeout)


def start_background(settings: Settings, echo: Callable[[str], None] = log.info, tick: float = TICK_SECONDS) -> Schedule | None:
    """Start background collection when any source is configured; return the schedule (or None)."""
    sources = configured_sources(settings)
    if not sources:
        echo("Background collection is off: no source has credentials in the environment.")
        return None
    store.connect(settings.db_path).close()  # migrate here, not in the thread, so no one races the schema
    plan = ", ".join(f"{name} every {getattr(settings.sources, name).poll_minutes} min" for name in sources)
    echo(f"Collecting in the background: {plan}.")
    schedule = Schedule(settings, echo, tick)
    schedule.thread.start()
    return schedule


def _parse(value: str) -> datetime:
    """A stored UTC timestamp as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
