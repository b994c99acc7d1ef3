"""The sources page: each collector's last run, counts, errors, rate-limit state and next run."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template

import collectors
import store
from web.db import get_db
from web.views import settings

bp = Blueprint("sources", __name__)


def _has_read_credentials(platform: str) -> bool:
    """Whether the environment holds the keys this source needs to collect."""
    return getattr(settings().sources, platform).has_read_credentials(settings().env)


def next_run(runs: list[dict], poll_minutes: int) -> str | None:
    """When the scheduler will run the source next: one poll interval after the last start,
    or later if the platform asked us to wait for a rate-limit reset."""
    if not runs:
        return None
    due = store.parse_utc(runs[0]["started_at"]) + timedelta(minutes=poll_minutes)
    reset = store.parse_utc(runs[0]["rate_limit_reset"])
    if reset and reset > due:
        due = reset
    return store.utc_text(due)


def source_summary(db, platform: str) -> dict:
    """Everything the page shows about one source."""
    conf = getattr(settings().sources, platform)
    store.close_interrupted_runs(db, platform, holding_lock=False)  # a killed run must not show as running
    runs = store.collector_runs(db, platform, limit=10)
    return {
        "platform": platform,
        "enabled": conf.enabled,
        "poll_minutes": conf.poll_minutes,
        "credentials": _has_read_credentials(platform),
        "can_reply": collectors.replier_for(settings(), platform) is not None,
        "last": runs[0] if runs else None,
        "last_attempt": store.last_attempted_run(db, platform),
        "runs": runs,
        "next_run": next_run(runs, conf.poll_minutes) if conf.enabled else None,
    }


@bp.get("/sources")
def index():
    """The sources page."""
    db = get_db()
    summaries = [source_summary(db, p) for p in collectors.PLATFORMS]
    return render_template("sources/index.html", sources=summaries, demo=current_app.config["EARSHOT_DEMO"])
