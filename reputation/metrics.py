"""Pure computations over query results: volume, net sentiment, share of voice, response times, themes.

Definitions (README, "Dashboard metrics"):
- net sentiment = (positive - negative) / scored mentions * 100, from -100 to +100;
- response rate = mentions answered / mentions received, for our brands (never competitors);
- time to first response = first_response_at - created_at, in minutes; median and p90 use
  linear interpolation between the nearest ranks (as numpy's default and statistics.median);
- within SLA = first responses that took at most the SLA target / first responses.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable

SENTIMENTS = ("negative", "neutral", "positive")
SEGMENTS = (*SENTIMENTS, "unscored")


def bucket_of(starts: list[str], at: str) -> int:
    """Index of the bucket (by sorted start times) holding the time `at`."""
    return max(0, bisect.bisect_right(starts, at) - 1)


def volume_table(buckets: list[tuple[str, str]], counts: Iterable[tuple], unscored: Iterable[tuple],
                 brands: Iterable[str]) -> list[dict]:  # fmt: skip
    """Mentions per bucket, split by sentiment, for the chosen brands, with net sentiment."""
    chosen = set(brands)
    starts = [start for start, _ in buckets]
    rows = [{"start": start, "end": end, **dict.fromkeys(SEGMENTS, 0)} for start, end in buckets]
    for start, brand, sentiment, count in counts:
        if brand in chosen:
            rows[bucket_of(starts, start)][sentiment] += count
    for created_at, brand in unscored:
        if brand in chosen and rows:
            rows[bucket_of(starts, created_at)]["unscored"] += 1
    for row in rows:
        row["total"] = sum(row[s] for s in SEGMENTS)
        row["net"] = net_sentiment(row["positive"], row["negative"], row["total"] - row["unscored"])
    return rows


def volume_totals(rows: list[dict]) -> dict:
    """The volume table summed over all buckets, with its net sentiment."""
    total = {s: sum(r[s] for r in rows) for s in SEGMENTS}
    total["total"] = sum(total.values())
    total["net"] = net_sentiment(total["positive"], total["negative"], total["total"] - total["unscored"])
    return total


def net_sentiment(positive: int, negative: int, scored: int) -> float | None:
    """(positive - negative) / scored * 100, rounded to 0.1; None when nothing is scored."""
    if scored <= 0:
        return None
    return round((positive - negative) / scored * 100, 1)


def brand_totals(counts: Iterable[tuple], unscored: Iterable[tuple]) -> Counter:
    """Mentions per brand over the whole range (scored and unscored)."""
    totals: Counter = Counter()
    for _, brand, _, count in counts:
        totals[brand] += count
    for _, brand in unscored:
        totals[brand] += 1
    return totals


def share_of_voice(totals: Counter, brands: list[tuple[str, bool]]) -> list[dict]:
    """Each configured brand's mentions and share of all brands' mentions, in percent."""
    overall = sum(totals[name] for name, _ in brands)
    return [
        {"brand": name, "competitor": competitor, "mentions": totals[name],
         "share": round(totals[name] / overall * 100, 1) if overall else None}
        for name, competitor in brands
    ]  # fmt: skip


def percentile(values: list[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks; None if empty."""
    return _quantile(sorted(values), q)


def _quantile(ordered: list[float], q: float) -> float | None:
    """percentile() of values already in ascending order."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


TEAM = None  # the key of the whole team's times in a dict of response times


def time_summary(minutes: list[float], sla_minutes: float) -> tuple[int, float | None, float | None, int]:
    """(first responses, median minutes, p90 minutes, how many within the SLA) of some response times."""
    ordered = sorted(m if m > 0 else 0.0 for m in minutes)  # a clock skew never gives a negative time
    return (len(ordered), _quantile(ordered, 0.5), _quantile(ordered, 0.9),
            bisect.bisect_right(ordered, sla_minutes))  # fmt: skip


def response_times(answered: Iterable[tuple], sla_minutes: float) -> dict[str | None, tuple]:
    """time_summary() of the team (key TEAM) and of each responder, from (minutes, responder) rows."""
    team: list[float] = []
    by_agent: dict[str, list[float]] = {}
    for minutes, responder in answered:
        team.append(minutes)
        by_agent.setdefault(responder or "(unknown)", []).append(minutes)
    found = {agent: time_summary(values, sla_minutes) for agent, values in by_agent.items()}
    return {**found, TEAM: time_summary(team, sla_minutes)}


def response_summary(times: tuple, received: int | None) -> dict:
    """Answered, response rate, median and p90 minutes, and the share within the SLA, from a time_summary()."""
    answered, median, p90, within = times
    return {
        "received": received, "answered": answered,
        "response_rate": _percent(answered, received),
        "median_minutes": _round(median), "p90_minutes": _round(p90),
        "within_sla": _percent(within, answered),
    }  # fmt: skip


def response_metrics(times: dict[str | None, tuple], assigned: Iterable[tuple], received: int, sla_minutes: float,
                     names: dict[str, str]) -> dict:  # fmt: skip
    """Team and per-agent response metrics.

    `times` holds time_summary() figures for the team (key TEAM) and for each responder (who sent
    the first public reply); `assigned` holds (assignee, assigned, answered). An agent's response
    rate is over the mentions assigned to them; their times are over the first responses they sent.
    """
    nobody = (0, None, None, 0)
    team = times.get(TEAM, nobody)
    load = {name: (count, done) for name, count, done in assigned}
    agents = []
    for agent in sorted({a for a in times if a is not TEAM} | set(load)):
        row = response_summary(times.get(agent, nobody), None)
        count, done = load.get(agent, (0, 0))
        row.update(agent=agent, name=names.get(agent, agent), assigned=count, response_rate=_percent(done, count),
                   share_of_responses=_percent(row["answered"], team[0]))  # fmt: skip
        agents.append(row)
    agents.sort(key=lambda r: (-r["answered"], r["name"].lower()))
    return {"team": response_summary(team, received), "agents": agents, "sla_minutes": sla_minutes}


def intent_themes(negatives: list[dict], intents_of, limit: int = 8, examples: int = 2) -> list[dict]:
    """The commonest complaint intents among negative mentions, with a few example mentions each."""
    counts: Counter = Counter()
    samples: dict[str, list[dict]] = {}
    for mention in negatives:
        for intent in dict.fromkeys(intents_of(mention)):
            counts[intent] += 1
            if len(samples.setdefault(intent, [])) < examples:
                samples[intent].append(mention)
    return [
        {"intent": intent, "mentions": count, "share": _percent(count, len(negatives)), "examples": samples[intent]}
        for intent, count in counts.most_common(limit)
    ]


def _percent(part: int, whole: int | None) -> float | None:
    """part / whole as a percentage rounded to 0.1, or None when whole is 0 or unknown."""
    return round(part / whole * 100, 1) if whole else None


def _round(value: float | None) -> float | None:
    """Minutes rounded to 0.1 (None stays None)."""
    return None if value is None else round(value, 1)
