"""The outcome stories of the demo: outcomes decided from the scripted follow-ups, a CSAT answer and a fix.

The scripts in demo/data/scripts.toml tell the stories (a satisfied, a still unhappy, an
escalated and a churned customer); this adds what staff and customers do outside the
conversation: Hanna answers the survey, and Parcelo records its courier change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import clock
import store
from reputation import outcomes

from .records import DAYS

CSAT_HANDLE = "hanna_lind"
CSAT_COMMENT = "Sorted within a day, thank you."
FIX = ("Parcelo", "delivery", "Courier change at the York depot", 7)  # brand, theme, note, days ago


def add_outcome_stories(db, settings, now: datetime | None = None) -> dict:
    """Decide the demo's outcomes, then add the CSAT answer and the fix once; return what was added."""
    now = now or clock.now()
    decided = outcomes.refresh(db, settings, since=store.utc_text(now - timedelta(days=DAYS + 1)))
    return {"outcomes": decided, "csat": _csat(db), "fix": _fix(db, settings, now)}


def _csat(db) -> bool:
    """Hanna's 5-star answer to the survey of our reply, unless it is there already."""
    rows = list(db.query(
        "SELECT r.id, r.mention_id FROM replies r JOIN mentions m ON m.id = r.mention_id "
        "WHERE m.author_handle = ? AND r.status = 'demo' ORDER BY r.id LIMIT 1", [CSAT_HANDLE]))  # fmt: skip
    if not rows or store.csat_for_reply(db, rows[0]["id"]):
        return False
    store.record_csat(db, rows[0]["id"], rows[0]["mention_id"], 5, CSAT_COMMENT)
    return True


def _fix(db, settings, now: datetime) -> bool:
    """Parcelo's courier change, unless recorded already (or Parcelo is not configured)."""
    brand, theme, note, days = FIX
    if brand not in {b.name for b in settings.brands} or any(f["note"] == note for f in store.list_fixes(db)):
        return False
    store.add_fix(db, brand, theme, note, (now - timedelta(days=days)).date().isoformat(), "demo")
    return True
