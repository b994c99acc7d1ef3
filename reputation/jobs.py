"""The background spike check of `app.py run`: detect, then deliver (never in demo mode), every check_minutes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import clock
import store
from background import PeriodicJob
from reputation import notify, spikes
from reputation.filters import parse_span
from settings import Settings

log = logging.getLogger("earshot.reputation")


def run_once(settings: Settings, now: datetime | None = None, deliver: bool = True) -> dict:
    """Check every watched brand once and send due deliveries (none when not `deliver`); return what happened."""
    db = store.connect(settings.database)
    try:
        return check_and_deliver(db, settings, deliver=deliver, now=now)
    finally:
        db.close()


def check_and_deliver(db, settings: Settings, since: str | None = None, deliver: bool = True,
                      now: datetime | None = None) -> dict:  # fmt: skip
    """Check now (or replay the past `since`, storing without sending), then send due deliveries."""
    now = now or clock.now()
    if since:
        ids = spikes.scan(db, settings, now - parse_span(since), now, channels=[])
    else:
        ids = spikes.check(db, settings, now, channels=None if deliver else [])
    tally = notify.deliver_due(db, settings, now) if deliver else {"sent": 0, "retrying": 0, "failed": 0}
    return {"alerts": [store.get_alert(db, i) for i in ids], **tally}


def start_background(settings: Settings, echo: Callable[[str], None] = log.info,
                     demo: bool = False) -> PeriodicJob | None:  # fmt: skip
    """Start the spike check unless alerts are disabled; return the job (or None).

    In demo mode alerts reach the console banner only: no webhook or email is ever sent.
    """
    if not settings.alerts.enabled or settings.alerts.check_minutes <= 0:
        echo("Spike alerts are off ([alerts] enabled = false).")
        return None
    if demo:
        where = "the console banner only (demo mode sends no webhook or email)"
    else:
        where = ", ".join(notify.channels(settings)) or "the console banner only"
    echo(f"Checking for spikes every {settings.alerts.check_minutes} min; alerts go to {where}.")
    tick = settings.alerts.check_minutes * 60
    return PeriodicJob("earshot-alerts", lambda: run_once(settings, deliver=not demo), tick).start()
