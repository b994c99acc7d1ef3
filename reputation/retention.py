"""Retention: what customers who complained posted about the brand afterwards, by cohort.

For each customer's first complaint about a brand (their first negative mention of it), the
posts by the same account about the same brand that came later decide, strongest first:

- left: a later post (a follow-up included) says they are leaving, cancelling or switching;
- new complaint: their latest later post (not counting follow-ups to our reply) is negative;
- came back positive: it is positive (or neutral: they are still talking to us);
- quiet: nothing since.

Retained: came back positive or with a new complaint; churned: left. Cohorts are the months
of first complaints; the same split compares answered with unanswered complaints and answers
within the SLA with slower ones, so a team can see what answering is worth.
"""

from __future__ import annotations

import json

import store
from classifier import urgency
from reputation.filters import Filters
from reputation.outcome_metrics import pct
from settings import Settings

KINDS = ("came_back_positive", "new_complaint", "left", "quiet")
LABELS = {"came_back_positive": "Came back positive", "new_complaint": "New complaint", "left": "Announced leaving",
          "quiet": "Gone quiet"}  # fmt: skip
CHURN_INTENT = "cancellation"
SAMPLE = 2000  # first complaints followed per view, newest first (the page says when the range holds more)


def _says_leaving(post: dict) -> bool:
    """Whether a post announces leaving (stored intents, or its text when unscored)."""
    stored = post["intents"]
    if stored and stored.startswith("[") and stored.endswith("]") and CHURN_INTENT not in stored:
        return False  # a stored list without it, as most are: no need to parse it
    try:
        intents = json.loads(stored) if stored else None
    except ValueError:
        intents = None
    if not isinstance(intents, list):
        intents = urgency.detect_intents(post["text"] or "")
    return CHURN_INTENT in intents


def fate(posts: list[dict]) -> str:
    """What became of one complaining customer, from their later posts (oldest first)."""
    if any(_says_leaving(p) for p in posts):
        return "left"
    returning = [p for p in posts if not p["followup"]]
    if not returning:
        return "quiet"
    return "new_complaint" if returning[-1]["sentiment"] == "negative" else "came_back_positive"


def _summary(fates: list[str]) -> dict:
    """Counts of each fate and the retained and churned shares."""
    counts = {k: fates.count(k) for k in KINDS}
    retained = counts["came_back_positive"] + counts["new_complaint"]
    return {"customers": len(fates), "counts": counts, "retained": pct(retained, len(fates)),
            "churned": pct(counts["left"], len(fates))}  # fmt: skip


def _speed(complaint: dict, sla_minutes: int) -> str:
    """answered within the SLA, answered later, or unanswered."""
    answered = store.parse_utc(complaint["first_response_at"])
    if answered is None:
        return "unanswered"
    minutes = (answered - store.parse_utc(complaint["created_at"])).total_seconds() / 60
    return "fast" if minutes <= sla_minutes else "slow"


def figures(db, settings: Settings, filters: Filters) -> dict:
    """Cohorts by month of first complaint, and answered against unanswered, fast against slow."""
    own = filters.own_brands(settings)
    complaints = store.complaint_histories(db, filters.start_iso, filters.end_iso, own, SAMPLE)
    fates = {c["id"]: fate(c["posts"]) for c in complaints}
    cohorts: dict[str, list[str]] = {}
    split: dict[str, list[str]] = {"answered": [], "unanswered": [], "fast": [], "slow": []}
    for c in complaints:
        cohorts.setdefault(c["created_at"][:7], []).append(fates[c["id"]])
        speed = _speed(c, settings.sla.target_minutes)
        split["unanswered" if speed == "unanswered" else "answered"].append(fates[c["id"]])
        if speed != "unanswered":
            split[speed].append(fates[c["id"]])
    return {
        "team": _summary(list(fates.values())),
        "cohorts": [{"month": month, **_summary(items)} for month, items in sorted(cohorts.items())],
        "compare": [{"name": name, **_summary(items)} for name, items in split.items()],
        "sla_minutes": settings.sla.target_minutes,
        "sample": SAMPLE, "sampled": len(complaints) >= SAMPLE,
    }  # fmt: skip


CSV_HEADER = ["group", "name", "customers", *KINDS, "retained_percent", "churned_percent"]


def _row(group: str, name: str, s: dict) -> list:
    """One CSV row of retention figures."""
    return [group, name, s["customers"], *(s["counts"][k] for k in KINDS), s["retained"], s["churned"]]


def table_rows(data: dict) -> list[list]:
    """The CSV rows: each cohort month, then answered/unanswered and fast/slow."""
    rows = [_row("cohort", c["month"], c) for c in data["cohorts"]]
    return rows + [_row("compare", c["name"], c) for c in data["compare"]]
