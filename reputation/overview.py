"""Everything the dashboard and the report show, from the store's Reputation queries.

Counts are exact. Complaint themes and terms are computed on the newest SAMPLE
negative mentions (and as many others) in the range, which the page says when
the range holds more.
"""

from __future__ import annotations

import json

import store
from reputation import metrics, outcome_metrics, retention, terms
from reputation import themes as themes_over_time
from reputation.filters import Filters, buckets
from settings import Settings

SAMPLE = 1000
THEMES = 8
TERMS = 10


def known_platforms(db) -> list[str]:
    """Every platform with mentions in the database."""
    return store.distinct_values(db, "platform")


def volume(db, settings: Settings, filters: Filters, platforms: list[str]) -> dict:
    """Volume by bucket and sentiment for the chosen brands, and share of voice across all brands."""
    every_brand = [b.name for b in settings.brands]
    spans = buckets(filters)
    counts = store.reputation_counts(db, spans, every_brand, platforms)
    unscored = store.reputation_unscored(db, filters.start_iso, filters.end_iso, every_brand, platforms)
    rows = metrics.volume_table(spans, counts, unscored, filters.brands(settings))
    totals = metrics.brand_totals(counts, unscored)
    sov = metrics.share_of_voice(totals, [(b.name, b.competitor) for b in settings.brands])
    own = sum(totals[name] for name in filters.own_brands(settings))
    return {"rows": rows, "totals": metrics.volume_totals(rows), "share_of_voice": sov, "own_mentions": own}


def themes(db, settings: Settings, filters: Filters, platforms: list[str], sample: int = SAMPLE) -> dict:
    """Complaint intents and distinctive terms of the newest negative mentions, with examples."""
    chosen = filters.brands(settings)
    args = (db, filters.start_iso, filters.end_iso, chosen, platforms)
    negatives = store.reputation_latest(*args, ("negative",), sample)
    others = store.reputation_latest(*args, ("neutral", "positive"), sample)
    ignore = terms.ignored_words(settings)
    negative_sets = terms.feature_sets((m["text"] for m in negatives), ignore)
    found = terms.distinctive_terms(negative_sets, terms.feature_sets((m["text"] for m in others), ignore), TERMS)
    for term in found:
        term["examples"] = terms.examples_for(term["term"], negatives, negative_sets)
    return {"intents": metrics.intent_themes(negatives, intents_of, THEMES), "terms": found,
            "negatives": len(negatives), "others": len(others), "sample": sample}  # fmt: skip


def intents_of(mention: dict) -> list[str]:
    """The classifier's intents of a mention (stored as a JSON list)."""
    try:
        found = json.loads(mention.get("intents") or "[]")
    except ValueError:
        return []
    return [str(i) for i in found] if isinstance(found, list) else []


def responses(db, settings: Settings, filters: Filters, platforms: list[str], received: int) -> dict:
    """Response rate and times for our brands in the view, for the team and per agent."""
    own = filters.own_brands(settings)
    answered = store.reputation_answered(db, filters.start_iso, filters.end_iso, own, platforms)
    assigned = store.reputation_assigned(db, filters.start_iso, filters.end_iso, own, platforms)
    result = metrics.response_metrics(answered, assigned, received, settings.sla.target_minutes,
                                      store.user_display_names(db))  # fmt: skip
    result["brands"] = own
    return result


def build(db, settings: Settings, filters: Filters) -> dict:
    """The whole overview: volume, share of voice, themes and responses."""
    platforms = filters.platforms(known_platforms(db))
    result = {"filters": filters, "platforms": platforms}
    result["volume"] = volume(db, settings, filters, platforms)
    result["themes"] = themes(db, settings, filters, platforms)
    result["responses"] = responses(db, settings, filters, platforms, result["volume"]["own_mentions"])
    result["outcomes"] = outcome_metrics.figures(db, settings, filters, platforms)
    result["retention"] = retention.figures(db, settings, filters)
    result["improvements"] = {"weekly": themes_over_time.weekly(db, settings, filters),
                              "fixes": themes_over_time.fix_effects(db, settings, filters)}  # fmt: skip
    return result
