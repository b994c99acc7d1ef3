"""Background collection for `app.py run`: each configured source every poll_minutes, in a thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import clock
import store
from background import PeriodicJob
from collectors.run import CollectionLocked, collect
from settings import Settings

log = logging.getLogger("earshot.collectors")

TICK_SECONDS = 30.0


def due_sources(settings: Settings, now: datetime | None = None) -> list[str]:
    """Configured sources whose last run started at least poll_minutes ago (or never ran)."""
    now = now or clock.now()
    db = store.connect(settings.database)
    try:
        due = []
        for name in settings.configured_sources():
            runs = store.collector_runs(db, name, limit=1)
            interval = timedelta(minutes=getattr(settings.sources, name).poll_minutes)
            if not runs or store.parse_utc(runs[0]["started_at"]) + interval <= now:
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


def start_background(
    settings: Settings, echo: Callable[[str], None] = log.info, tick: float = TICK_SECONDS
) -> PeriodicJob | None:
    """Start background collection when any source is configured; return the schedule (or None)."""
    sources = settings.configured_sources()
    if not sources:
        echo("Background collection is off: no source has credentials in the environment.")
        return None
    store.connect(settings.database).close()  # migrate here, not in the thread, so no one races the schema
    plan = ", ".join(f"{name} every {getattr(settings.sources, name).poll_minutes} min" for name in sources)
    echo(f"Collecting in the background: {plan}.")
    return PeriodicJob("earshot-collect", lambda: run_due(settings, echo), tick).start()


