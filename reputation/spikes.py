"""Spike detection: each brand's last window against the same hour of day on the previous days.

A check compares the last `window_minutes` with the same clock window on each of the
previous `baseline_days` days, so a busy lunchtime is never mistaken for a storm. It
looks for two things (thresholds in config.toml [alerts]):

- volume: at least min_mentions, volume_ratio times the baseline mean, and volume_z
  deviations above it (the deviation is at least the Poisson one, sqrt(mean));
- negative share: at least negative_min_mentions scored mentions, a negative share
  negative_rise above the baseline's pooled share, and negative_z standard errors above it.

One alert per brand names everything that rose. After an alert, the brand is quiet
for cooldown_minutes of data time, so a storm raises one alert, not one per check.
"""

from __future__ import annotations

import logging
import math
import statistics
from datetime import datetime, timedelta

import clock
import store
from reputation import terms
from settings import AlertSettings, Settings

log = logging.getLogger("earshot.reputation")

TERM_SAMPLE = 500
BASELINE_SAMPLE = 1000
EXAMPLES = 3


def windows(end: datetime, minutes: int, days: int) -> list[tuple[str, str]]:
    """The window ending at `end`, then the same clock window on each of the previous `days` days."""
    width = timedelta(minutes=minutes)
    return [(store.utc_text(end - timedelta(days=k) - width), store.utc_text(end - timedelta(days=k))) for k in range(days + 1)]


def volume_finding(current: dict, baseline: list[dict], cfg: AlertSettings) -> dict | None:
    """A volume spike in the current window, or None."""
    values = [w["mentions"] for w in baseline]
    mean = _mean(values)
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    count = current["mentions"]
    z = (count - mean) / math.sqrt(max(spread**2, mean, 1.0))
    if count < cfg.min_mentions or count < cfg.volume_ratio * mean or z < cfg.volume_z:
        return None
    return {"kind": "volume", "value": count, "baseline": round(mean, 2),
            "ratio": round(count / mean, 1) if mean else None, "z": round(z, 1)}  # fmt: skip


def negative_finding(current: dict, baseline: list[dict], cfg: AlertSettings) -> dict | None:
    """A rise in the share of negative mentions in the current window, or None."""
    scored = current["scored"]
    if scored < max(cfg.negative_min_mentions, 1):
        return None
    share = current["negative"] / scored
    base_scored = sum(w["scored"] for w in baseline)
    base = sum(w["negative"] for w in baseline) / base_scored if base_scored else 0.0
    p = min(max(base, 0.05), 0.95)  # keeps the standard error honest when the baseline is ~0 or ~1
    z = (share - base) / math.sqrt(p * (1 - p) / scored)
    if share - base < cfg.negative_rise or z < cfg.negative_z:
        return None
    return {"kind": "negative_share", "value": round(share, 3), "baseline": round(base, 3),
            "negative": current["negative"], "scored": scored, "z": round(z, 1)}  # fmt: skip


def findings(counts: list[dict], cfg: AlertSettings) -> list[dict]:
    """What rose in the current window (counts[0]) against the baseline windows (counts[1:])."""
    current, baseline = counts[0], counts[1:]
    found = (volume_finding(current, baseline, cfg), negative_finding(current, baseline, cfg))
    return [f for f in found if f]


def describe(found: list[dict], cfg: AlertSettings) -> str:
    """The reason, in a sentence or two: what rose and by how much."""
    parts = []
    for f in found:
        if f["kind"] == "volume":
            usual = f"{f['baseline']:g} usual" if f["baseline"] else "almost none usual"
            rise = f"up {f['ratio']:g}x" if f["ratio"] else "up from almost nothing"
            parts.append(f"Volume {rise}: {f['value']} mentions in {cfg.window_minutes} min vs {usual} at this hour")
        else:
            parts.append(f"Negative share up {round((f['value'] - f['baseline']) * 100)} points: "
                         f"{f['value']:.0%} of {f['scored']} scored mentions vs {f['baseline']:.0%} usual")  # fmt: skip
    return "; ".join(parts) + f" (baseline: the same hour on the previous {cfg.baseline_days} days)."


def in_cooldown(db, brand: str, end: datetime, cfg: AlertSettings) -> bool:
    """Whether the brand had an alert within cooldown_minutes before `end` (or at a later time)."""
    last = store.last_alert_end(db, brand)
    return last is not None and store.parse_utc(last) > end - timedelta(minutes=cfg.cooldown_minutes)


def evidence(db, settings: Settings, brand: str, spans: list[tuple[str, str]], platforms: list[str],
             negative: bool) -> dict:  # fmt: skip
    """Top terms and example mentions of the window, against the brand's baseline days."""
    start, end = spans[0]
    sentiments = ("negative",) if negative else store.SENTIMENTS
    recent = store.reputation_latest(db, start, end, [brand], platforms, sentiments, TERM_SAMPLE)
    before = store.reputation_latest(db, spans[-1][0], start, [brand], platforms, store.SENTIMENTS, BASELINE_SAMPLE)
    ignore = terms.ignored_words(settings)
    found = terms.distinctive_terms(terms.feature_sets((m["text"] for m in recent), ignore),
                                    terms.feature_sets((m["text"] for m in before), ignore), limit=5)  # fmt: skip
    examples = [{k: m[k] for k in ("id", "platform", "author_handle", "created_at", "url", "text")}
                for m in recent[:EXAMPLES]]  # fmt: skip
    return {"terms": [{"term": t["term"], "mentions": t["negative"]} for t in found], "examples": examples}


def check_brand(db, settings: Settings, brand: str, end: datetime, platforms: list[str]) -> dict | None:
    """The alert a brand's window ending at `end` calls for, or None (nothing is stored)."""
    cfg = settings.alerts
    spans = windows(end, cfg.window_minutes, cfg.baseline_days)
    counts = store.reputation_windows(db, brand, spans, platforms)
    found = findings(counts, cfg)
    if not found:
        return None
    kinds = [f["kind"] for f in found]
    detail = {"findings": found, "window_minutes": cfg.window_minutes, "baseline_days": cfg.baseline_days,
              **evidence(db, settings, brand, spans, platforms, "negative_share" in kinds)}  # fmt: skip
    negative = next((f for f in found if f["kind"] == "negative_share"), None)
    current = counts[0]
    return {
        "brand": brand, "kinds": ",".join(kinds), "window_start": spans[0][0], "window_end": spans[0][1],
        "mentions": current["mentions"], "baseline": round(_mean([c["mentions"] for c in counts[1:]]), 2),
        "negative_share": negative["value"] if negative else _share(current),
        "baseline_negative_share": negative["baseline"] if negative else None,
        "reason": describe(found, cfg), "detail": detail,
    }  # fmt: skip


def _mean(values: list[float]) -> float:
    """The mean, or 0 for no values."""
    return statistics.fmean(values) if values else 0.0


def _share(window: dict) -> float | None:
    """The window's negative share, or None when nothing is scored."""
    return round(window["negative"] / window["scored"], 3) if window["scored"] else None


def watched_brands(settings: Settings) -> list[str]:
    """Brands checked for spikes: ours, plus competitors when include_competitors is set."""
    return [b.name for b in settings.brands if settings.alerts.include_competitors or not b.competitor]


def check(db, settings: Settings, now: datetime | None = None, channels: list[str] | None = None) -> list[int]:
    """Check every watched brand once for the window ending at `now`; store and return new alert ids."""
    from reputation import notify

    end = (now or clock.now()).replace(second=0, microsecond=0)
    platforms = store.distinct_values(db, "platform")
    channels = notify.channels(settings) if channels is None else channels
    raised = []
    for brand in watched_brands(settings):
        if in_cooldown(db, brand, end, settings.alerts):
            continue
        alert = check_brand(db, settings, brand, end, platforms)
        if alert:
            raised.append(store.add_alert(db, alert, channels, due_at=store.utc_text(end)))
            log.warning("Spike alert for %s: %s", brand, alert["reason"])
    return raised


def scan(db, settings: Settings, start: datetime, end: datetime, step_minutes: int | None = None,
         channels: list[str] | None = None) -> list[int]:  # fmt: skip
    """Check every step through [start, end], oldest first (a backfill); return new alert ids."""
    step = timedelta(minutes=step_minutes or settings.alerts.check_minutes)
    moment, raised = start, []
    while moment <= end:
        raised += check(db, settings, moment, channels)
        moment += step
    return raised
