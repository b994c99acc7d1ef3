"""Complaints into improvements: complaint themes week over week, and each recorded fix's before and after.

A complaint's theme is its most serious complaint intent (classifier/urgency.py). Weeks are
the seven-day spans that end where the dashboard's range ends. A fix recorded against a
theme ("courier change", 2026-11-20) is judged on the brand's mentions with that theme in
the ``FIX_DAYS`` days before the fix and the same span after it (to now, if shorter).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import clock
import store
from reputation.filters import Filters
from reputation.outcome_metrics import pct
from reputation.outcomes import NOT_THEMES
from settings import Settings

WEEKS = 6
FIX_DAYS = 14
RISING = 5
SAMPLE = 500  # negative mentions read per week; a busier week's theme counts are scaled from them


def week_starts(end: datetime, weeks: int = WEEKS) -> list[datetime]:
    """The starts of the ``weeks`` seven-day spans ending at ``end``, oldest first."""
    return [end - timedelta(days=7 * (weeks - i)) for i in range(weeks)]


def _first_theme(intents: str | None) -> str | None:
    """The theme of a stored intents list."""
    try:
        found = json.loads(intents or "[]")
    except ValueError:
        return None
    return next((i for i in found if i not in NOT_THEMES), None) if isinstance(found, list) else None


def _week_counts(db, start: datetime, end: datetime, own: list[str], platforms: list[str]) -> tuple[dict[str, int], bool]:
    """Complaints per theme in one week; estimated from the newest SAMPLE when the week holds more."""
    total, intents = store.theme_sample(db, store.utc_text(start), store.utc_text(end), own, platforms, SAMPLE)
    found: dict[str, int] = {}
    for value in intents:
        theme = _first_theme(value)
        if theme:
            found[theme] = found.get(theme, 0) + 1
    if total <= len(intents) or not intents:
        return found, False
    scale = total / len(intents)
    return {t: round(n * scale) for t, n in found.items()}, True


def weekly(db, settings: Settings, filters: Filters) -> dict:
    """Complaints per theme per week, the themes rising most in the last week, and examples of each."""
    own, starts = filters.own_brands(settings), week_starts(filters.end)
    platforms = filters.platforms(store.distinct_values(db, "platform"))
    counts: dict[str, list[int]] = {}
    estimated = False
    for week, start in enumerate(starts):
        found, sampled = _week_counts(db, start, start + timedelta(days=7), own, platforms)
        estimated = estimated or sampled
        for theme, n in found.items():
            counts.setdefault(theme, [0] * len(starts))[week] = n
    rows = [{"theme": t, "weeks": w, "last": w[-1], "previous": w[-2], "change": w[-1] - w[-2]} for t, w in counts.items()]
    rows.sort(key=lambda r: (-r["change"], -r["last"], r["theme"]))
    last_week = (store.utc_text(starts[-1]), filters.end_iso)
    for row in rows[:RISING]:
        row["examples"] = store.theme_examples(db, row["theme"], *last_week, own)
    return {"weeks": [s.date().isoformat() for s in starts], "themes": rows, "estimated": estimated, "sample": SAMPLE}


def _window(db, brand: str, theme: str, start: datetime, end: datetime) -> dict:
    """Mentions with a theme in a span: how many, how many negative, and the negative share."""
    found = store.theme_window(db, brand, theme, store.utc_text(start), store.utc_text(end))
    total, negative = sum(found.values()), found.get("negative", 0)
    return {"mentions": total, "complaints": negative, "negative_share": pct(negative, total),
            "days": round((end - start).total_seconds() / 86400, 1)}  # fmt: skip


def _per_day(window: dict | None) -> float | None:
    """Complaints per day in a span (None for a span not yet begun)."""
    return window["complaints"] / window["days"] if window and window["days"] else None


def _change(before: float | None, after: float | None) -> float | None:
    """The change in complaints per day after a fix, in percent of before."""
    if before is None or after is None or not before:
        return None
    return round(100 * (after - before) / before, 1)


CSV_HEADER = ["kind", "theme", "brand", "note", "fixed_on", "period", "mentions", "complaints", "negative_share_percent",
              "complaints_per_day_change_percent"]  # fmt: skip


def table_rows(data: dict) -> list[list]:
    """The CSV rows: complaints per theme per week, then each fix before and after."""
    rows = []
    for t in data["weekly"]["themes"]:
        rows += [
            ["week", t["theme"], "", "", "", week, n, n, "", ""]
            for week, n in zip(data["weekly"]["weeks"], t["weeks"], strict=True)
        ]
    for f in data["fixes"]:
        for period in ("before", "after"):
            w = f[period] or {"mentions": None, "complaints": None, "negative_share": None}
            rows.append(["fix", f["theme"], f["brand"], f["note"], f["fixed_on"], period, w["mentions"], w["complaints"],
                         w["negative_share"], f["complaints_per_day_change"] if period == "after" else ""])  # fmt: skip
    return rows


def fix_effects(db, settings: Settings, filters: Filters) -> list[dict]:
    """Each recorded fix of our brands in view with its theme's figures before and after."""
    now, found = clock.now(), []
    for fix in store.list_fixes(db, filters.own_brands(settings)):
        fixed = datetime.combine(date.fromisoformat(fix["fixed_on"]), time(), tzinfo=now.tzinfo)
        span = timedelta(days=FIX_DAYS)
        after_end = min(fixed + span, now)
        before = _window(db, fix["brand"], fix["theme"], fixed - span, fixed)
        after = _window(db, fix["brand"], fix["theme"], fixed, after_end) if after_end > fixed else None
        change = _change(_per_day(before), _per_day(after))
        found.append({**fix, "before": before, "after": after, "complaints_per_day_change": change})
    return found
