"""The Outcomes figures: satisfaction, CSAT, sentiment recovery and churn risk, for the team and per group.

Definitions (README, "Outcomes"):

- answered: our brands' mentions whose first public reply was sent in the range;
- replied: answered mentions whose customer answered us (any outcome but no reply yet and silent);
- satisfaction rate: satisfied ÷ replied;
- sentiment recovery: answered negative complaints that ended satisfied ÷ answered negative complaints;
- CSAT: the mean survey rating (1 to 5), and the share of ratings of 4 or 5;
- churn risk: answered mentions whose customer then said they were leaving.

An answer still waiting past ``[outcomes] silent_hours`` counts as silent here even before the
next collection run recomputes it.
"""

from __future__ import annotations

from datetime import timedelta

import clock
import store
from reputation import svg
from reputation.filters import Filters
from settings import Settings

VERDICTS = ("satisfied", "still_unhappy", "escalated", "churn_risk", "neutral")
LABELS = {
    "satisfied": "Satisfied", "still_unhappy": "Still unhappy", "escalated": "Escalated", "churn_risk": "Churn risk",
    "neutral": "Replied, neutral", "no_reply_yet": "No reply yet", "silent": "Silent",
}  # fmt: skip
COLOURS = {
    "satisfied": "#2e8b57", "still_unhappy": "#d98c1f", "escalated": "#c0392b", "churn_risk": "#7b1f1f",
    "neutral": "#9aa3b2", "no_reply_yet": "#c9ced8", "silent": "#6b7280",
}  # fmt: skip
GROUPS = (("brand", "Brand"), ("platform", "Network"), ("agent", "Agent"), ("theme", "Theme"))


def pct(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None of nothing."""
    return round(100 * part / whole, 1) if whole else None


def summary(rows: list[dict]) -> dict:
    """Counts per outcome and the rates, from grouped outcome counts."""
    counts = {o: 0 for o in LABELS}
    for row in rows:
        counts[row["outcome"]] += row["n"]
    replied = sum(counts[o] for o in VERDICTS)
    negative = sum(r["n"] for r in rows if r["sentiment_before"] == "negative")
    recovered = sum(r["n"] for r in rows if r["sentiment_before"] == "negative" and r["recovered"])
    ratings, rating_sum, good = (sum(r[k] or 0 for r in rows) for k in ("ratings", "rating_sum", "good"))
    return {
        "answered": sum(r["n"] for r in rows), "replied": replied, "counts": counts,
        "satisfaction_rate": pct(counts["satisfied"], replied),
        "negative": negative, "recovered": recovered, "recovery_rate": pct(recovered, negative),
        "csat_responses": ratings, "csat_average": round(rating_sum / ratings, 2) if ratings else None,
        "csat_percent": pct(good, ratings), "churn_risk": counts["churn_risk"],
    }  # fmt: skip


def grouped(rows: list[dict], key: str, names: dict[str, str]) -> list[dict]:
    """One summary per value of ``key`` (brand, platform, agent or theme), largest first."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[key] or "(none)", []).append(row)
    found = [{"name": names.get(value, value), **summary(items)} for value, items in groups.items()]
    return sorted(found, key=lambda g: (-g["answered"], g["name"]))


def figures(db, settings: Settings, filters: Filters, platforms: list[str]) -> dict:
    """Everything the Outcomes section shows for our brands in the view."""
    own = filters.own_brands(settings)
    silent_before = store.utc_text(clock.now() - timedelta(hours=settings.outcomes.silent_hours))
    rows = store.outcome_counts(db, filters.start_iso, filters.end_iso, own, platforms, silent_before)
    agents = store.user_display_names(db)
    team = summary(rows)
    return {
        "team": team, "brands": own, "silent_hours": settings.outcomes.silent_hours,
        "groups": {key: grouped(rows, key, agents if key == "agent" else {}) for key, _ in GROUPS},
        "chart": chart(team),
    }  # fmt: skip


def chart(team: dict) -> object:
    """Answered mentions by outcome, as an inline SVG bar chart (its table sits beside it)."""
    items = [(LABELS[o], team["counts"][o], COLOURS[o]) for o in LABELS]
    return svg.hbars(items, "Answered mentions by outcome", width=560)


def table_rows(data: dict) -> list[list]:
    """The CSV rows of the Outcomes section: the team, then each group."""
    header_less = [_row("team", "team", data["team"])]
    for key, _ in GROUPS:
        header_less += [_row(key, g["name"], g) for g in data["groups"][key]]
    return header_less


CSV_HEADER = ["group", "name", "answered", "replied", *LABELS, "satisfaction_rate_percent", "negative_complaints",
              "recovered", "recovery_rate_percent", "csat_responses", "csat_average", "csat_4_or_5_percent"]  # fmt: skip


def _row(group: str, name: str, s: dict) -> list:
    """One CSV row of figures."""
    return [group, name, s["answered"], s["replied"], *(s["counts"][o] for o in LABELS), s["satisfaction_rate"],
            s["negative"], s["recovered"], s["recovery_rate"], s["csat_responses"], s["csat_average"],
            s["csat_percent"]]  # fmt: skip
