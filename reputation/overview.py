"""Everything the dashboard and the report show, from the store's Reputation queries.

Counts are exact. Complaint themes and terms are computed on the newest SAMPLE
negative mentions (and as many others) in the range, which the page says when
the range holds more.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

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
    return response_figures(response_reads(db, settings, filters, platforms), settings, received)


def response_reads(db, settings: Settings, filters: Filters, platforms: list[str]) -> dict:
    """What the response figures are computed from: response times, assigned mentions and agents' names.

    PostgreSQL works the medians out itself; SQLite, which cannot, hands over every answered mention.
    """
    own, sla = filters.own_brands(settings), settings.sla.target_minutes
    span = (filters.start_iso, filters.end_iso, own, platforms)
    if db.dialect == "postgresql":
        times = store.reputation_response_times(db, *span, sla)
    else:
        times = metrics.response_times(store.reputation_answered(db, *span), sla)
    return {"brands": own, "names": store.user_display_names(db), "times": times,
            "assigned": store.reputation_assigned(db, *span)}  # fmt: skip


def response_figures(reads: dict, settings: Settings, received: int) -> dict:
    """The team's and each agent's response figures, over `received` mentions of our brands."""
    result = metrics.response_metrics(reads["times"], reads["assigned"], received, settings.sla.target_minutes,
                                      reads["names"])  # fmt: skip
    result["brands"] = reads["brands"]
    return result


def build(db, settings: Settings, filters: Filters, connect: Callable[[], Any] | None = None) -> dict:
    """The whole overview: volume, share of voice, themes, responses, outcomes, retention and improvements.

    With ``connect`` (a function that opens another connection to the same database) the
    sections are read side by side on their own connections, so one section's queries run
    while another's figures are computed; without it, one after the other on ``db``.
    """
    platforms = filters.platforms(known_platforms(db))

    def outcomes(d) -> dict:
        """Outcomes and the improvements over time."""
        return {"outcomes": outcome_metrics.figures(d, settings, filters, platforms),
                "improvements": {"weekly": themes_over_time.weekly(d, settings, filters),
                                 "fixes": themes_over_time.fix_effects(d, settings, filters)}}  # fmt: skip

    sections = [  # the longest first, so the others fill in around them
        lambda d: {"retention": retention.figures(d, settings, filters)},
        lambda d: {"volume": volume(d, settings, filters, platforms)},
        lambda d: {"themes": themes(d, settings, filters, platforms)},
        lambda d: {"responses": response_reads(d, settings, filters, platforms)},
        outcomes,
    ]
    result = {"filters": filters, "platforms": platforms}
    for part in side_by_side(db, connect, sections):
        result.update(part)
    result["responses"] = response_figures(result["responses"], settings, result["volume"]["own_mentions"])
    return result


def side_by_side(db, connect: Callable[[], Any] | None, jobs: list[Callable[[Any], Any]],
                 helpers: int = 2) -> list:  # fmt: skip
    """Each job's result, in order, for jobs that only read.

    Up to ``helpers`` threads each open a connection with ``connect`` and take jobs in turn
    with this thread, which works on ``db`` and takes whatever they have not started. A
    helper that cannot connect (a pool in use, say) takes nothing, so the worst case is
    the jobs one after the other, here. The first job to fail raises its error.
    """
    order = iter(range(len(jobs)))
    lock = threading.Lock()
    finished = [threading.Event() for _ in jobs]
    results: dict[int, Any] = {}
    errors: dict[int, BaseException] = {}

    def work(conn) -> None:
        """Run jobs on this connection until none is left."""
        while True:
            with lock:
                index = next(order, None)
            if index is None:
                return
            try:
                results[index] = jobs[index](conn)
            except BaseException as exc:  # raised again in the caller's thread
                errors[index] = exc
            finally:
                finished[index].set()

    def helper() -> None:
        """Work on a connection of its own, or leave the jobs to the others."""
        try:
            conn = connect()
        except Exception:
            return
        try:
            work(conn)
        finally:
            conn.close()

    if connect is not None:
        for _ in range(min(helpers, len(jobs) - 1)):
            threading.Thread(target=helper, name="earshot-overview", daemon=True).start()
    work(db)
    for event in finished:
        event.wait()
    if errors:
        raise errors[min(errors)]
    return [results[i] for i in range(len(jobs))]
