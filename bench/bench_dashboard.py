"""Benchmark the dashboard's queries on a database of 1,000,000 mentions.

Run by hand:  .venv/bin/python bench/bench_dashboard.py [--rows 1000000] [--db /tmp/earshot-bench-dashboard.db]
Targets: each view's queries (volume + share of voice, themes, responses) take a median of at most
200 ms; the Outcomes section (outcomes, retention, complaint themes by week and fixes before and
after: everything the dashboard's Outcomes section calls) takes a median under 300 ms.

The database is built once with bench_store's generator (14 days, three brands), then
scored as the classifier would (sentiment and intents), with ~6% of our brands'
mentions answered by one of six agents; later runs reuse it (--rebuild to start again).
About 45% of the answers get a follow-up post from the customer (thanks, the same problem
again, leaving, tagging the press, a plain answer) or from a bystander, inserted by SQL in the
shape a collector stores them, already scored (~18,000 mentions beyond --rows at 1M);
Earshot's own code then links them (store.link_followups) and decides every answered
mention's outcome (reputation.outcomes.refresh). 400 replies get a CSAT rating and four
fixes are recorded against complaint themes. The clock is held at NOW, two days after the
last day of mentions, while building and timing.
With --ingest-check it also measures how much the reputation migration's indexes cost
ingest, on two small fresh databases.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_store  # noqa: E402

import clock  # noqa: E402
import settings as settings_mod  # noqa: E402
import store  # noqa: E402
from reputation import outcome_metrics, outcomes, overview, retention, spikes, themes  # noqa: E402
from reputation.filters import Filters  # noqa: E402

READY_KEY = "bench_dashboard_v2_rows"  # v2: follow-ups, outcomes, CSAT and fixes
INTENTS = ('["outage"]', '["billing"]', '[]', '[]', '["outage", "billing"]', '["account_access"]', '["delivery"]')
AGENTS = ("sam", "alex", "kim", "lee", "ana", "raj")
DAY = datetime(2026, 11, 8, tzinfo=UTC)  # bench_store's first day (14 days: Nov 8-21)
NOW = DAY + timedelta(days=16)  # the clock while building and timing
HANDLES = {"Lumina Mobile": "LuminaHelp", "Parcelo": "ParceloCares", "Voltel": "Voltel"}
# What a follow-up says, by kind (0-19): (text after the brand's handle, sentiment, negative probability).
FOLLOWUPS = (
    *[("thanks, all sorted now", "positive", 0.05)] * 7,
    *[("still not fixed, same problem as before", "negative", 0.85)] * 4,
    ("that's it, I'm cancelling and switching to another provider", "negative", 0.9),
    ("@newsdesk look at how they treat customers", "negative", 0.8),
    *[("ok, I will check later", "neutral", 0.2)] * 4,
    ("great, it works again", "positive", 0.05),
    ("got it", "neutral", 0.3),
    ("same here, nobody answers me either", "negative", 0.7),  # kind 19: a bystander, not the customer
)
FIXES = (
    ("Parcelo", "delivery", "Courier change", "2026-11-15"),
    ("Parcelo", "billing", "Refunds in one step", "2026-11-12"),
    ("Lumina Mobile", "outage", "Tower upgrade", "2026-11-14"),
    ("Lumina Mobile", "billing", "Clearer roaming bill", "2026-11-18"),
)


def build(path: Path, rows: int, batch: int) -> None:
    """Ingest, score and answer `rows` mentions into a fresh database at `path`."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = store.connect(path)
    print(f"Building {rows:,} mentions in {path} (once; later runs reuse it) ...", flush=True)
    rate = bench_store.ingest(db, rows, batch)
    print(f"  ingest: {rate:,.0f} mentions/s")
    started = time.perf_counter()
    cases = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(INTENTS))
    with db.atomic():
        db.execute(
            "UPDATE mentions SET scored_at = created_at, sentiment = CASE abs(random() % 20) "
            "WHEN 0 THEN 'positive' WHEN 1 THEN 'positive' WHEN 2 THEN 'positive' WHEN 3 THEN 'positive' "
            "WHEN 4 THEN 'positive' WHEN 5 THEN 'neutral' WHEN 6 THEN 'neutral' WHEN 7 THEN 'neutral' "
            "WHEN 8 THEN 'neutral' WHEN 9 THEN 'neutral' WHEN 10 THEN 'neutral' WHEN 11 THEN 'neutral' "
            f"ELSE 'negative' END, intents = CASE abs(random() % {len(INTENTS)}) {cases} END"
        )
    print(f"  scored in {time.perf_counter() - started:.0f} s", flush=True)
    answer(db)
    follow_up(db)
    decide(db)
    store.set_meta(db, READY_KEY, str(rows))
    db.close()


def answer(db) -> None:
    """Answer ~6% of our brands' mentions (5-245 minutes later), assign them, and record the replies."""
    started = time.perf_counter()
    agents = " ".join(f"WHEN {i} THEN '{a}'" for i, a in enumerate(AGENTS))
    with db.atomic():
        db.execute(
            "UPDATE mentions SET first_response_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, "
            f"'+' || (5 + abs(random() % 240)) || ' minutes'), assignee = CASE abs(random() % {len(AGENTS)}) "
            f"{agents} END WHERE brand != 'Voltel' AND abs(random() % 100) < 6"
        )
        db.execute(
            "INSERT INTO replies (mention_id, idempotency_key, author, body, status, created_at, sent_at) "
            "SELECT id, 'bench-' || id, assignee, 'Sorry about this!', 'sent', first_response_at, first_response_at "
            "FROM mentions WHERE first_response_at IS NOT NULL"
        )
        # As when a reply is sent, the answer is recorded after the reply: the trigger finds its author.
        db.execute("UPDATE mentions SET first_response_at = first_response_at WHERE first_response_at IS NOT NULL")
        db.execute(
            f"UPDATE mentions SET assignee = CASE abs(random() % {len(AGENTS)}) {agents} END "
            "WHERE assignee IS NULL AND brand != 'Voltel' AND abs(random() % 100) < 2"
        )
    answered = db.execute("SELECT count(*) FROM mentions WHERE first_response_at IS NOT NULL").fetchone()[0]
    print(f"  answered {answered:,} mentions in {time.perf_counter() - started:.0f} s", flush=True)


def follow_up(db) -> None:
    """Give ~45% of the answered mentions a scored follow-up post answering our reply (10-1,440 minutes later)."""
    started = time.perf_counter()
    handles = " ".join(f"WHEN '{b}' THEN '@{h} '" for b, h in HANDLES.items())
    pick = {
        column: " ".join(f"WHEN {k} THEN {fn(f)}" for k, f in enumerate(FOLLOWUPS))
        for column, fn in (("text", lambda f: _quoted(f[0])), ("sentiment", lambda f: _quoted(f[1])),
                           ("scores", lambda f: _quoted(_scores(f[1], f[2]))))
    }  # fmt: skip
    with db.atomic():
        db.execute("UPDATE replies SET external_id = 'bench-reply-' || id")
        db.execute("DROP TABLE IF EXISTS temp.bench_kinds")
        db.execute(
            f"CREATE TEMP TABLE bench_kinds AS SELECT id, abs(random() % {len(FOLLOWUPS)}) AS kind, "
            "10 + abs(random() % 1430) AS minutes FROM mentions "
            "WHERE first_response_at IS NOT NULL AND abs(random() % 100) < 45"
        )
        db.execute(
            "INSERT INTO mentions (platform, external_id, brand, query, text, language, author_id, author_handle, "
            "created_at, collected_at, in_reply_to_id, sentiment, sentiment_scores, intents, scored_at, updated_at) "
            "SELECT m.platform, 'bench-followup-' || m.id, m.brand, 'followups', "
            f"(CASE m.brand {handles} END) || (CASE k.kind {pick['text']} END), 'en', "
            f"CASE k.kind WHEN {len(FOLLOWUPS) - 1} THEN 'bystander-' || m.id ELSE m.author_id END, "
            f"CASE k.kind WHEN {len(FOLLOWUPS) - 1} THEN 'bystander' ELSE m.author_handle END, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', r.sent_at, '+' || k.minutes || ' minutes') AS at, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', r.sent_at, '+' || k.minutes || ' minutes'), r.external_id, "
            f"CASE k.kind {pick['sentiment']} END, CASE k.kind {pick['scores']} END, '[]', "
            "strftime('%Y-%m-%dT%H:%M:%SZ', r.sent_at, '+' || k.minutes || ' minutes'), "
            "strftime('%Y-%m-%dT%H:%M:%SZ', r.sent_at, '+' || k.minutes || ' minutes') "
            "FROM bench_kinds k JOIN mentions m ON m.id = k.id JOIN replies r ON r.mention_id = m.id"
        )
        db.execute("DROP TABLE temp.bench_kinds")
    found = db.execute("SELECT count(*) FROM mentions WHERE query = 'followups'").fetchone()[0]
    print(f"  {found:,} follow-ups in {time.perf_counter() - started:.0f} s", flush=True)


def _quoted(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _scores(sentiment: str, negative: float) -> str:
    """Sentiment probabilities as the classifier stores them."""
    rest = round(1 - negative, 2)
    other = "neutral" if sentiment == "negative" else sentiment
    found = {"negative": negative, "neutral": 0.0, "positive": 0.0} | {other: rest}
    return json.dumps(found)


def decide(db) -> None:
    """Link the follow-ups and decide every outcome with Earshot's own code, then add CSAT ratings and fixes."""
    started = time.perf_counter()
    since = store.utc_text(DAY)
    linked = store.link_followups(db, since)
    decided = outcomes.refresh(db, settings_mod.load(), since)
    spent = time.perf_counter() - started
    print(f"  linked {linked:,} follow-ups, decided {decided:,} outcomes in {spent:.0f} s", flush=True)
    with db.atomic():
        db.execute(
            "INSERT INTO csat_responses (reply_id, mention_id, rating, comment, created_at) "
            "SELECT id, mention_id, CASE abs(random() % 10) WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 3 "
            "WHEN 3 THEN 4 WHEN 4 THEN 4 ELSE 5 END, NULL, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', sent_at, '+2 hours') FROM replies ORDER BY random() LIMIT 400"
        )
    for brand, theme, note, fixed_on in FIXES:
        store.add_fix(db, brand, theme, note, fixed_on, "bench")


def views() -> dict[str, Filters]:
    """The dashboard views timed: the default week, by hour, one brand, one brand on one platform, everything."""
    week = DAY + timedelta(days=7)
    return {
        "7 days, all brands, by day": Filters(week, week + timedelta(days=7)),
        "7 days, all brands, by hour": Filters(week, week + timedelta(days=7), bucket="hour"),
        "7 days, one brand, by day": Filters(week, week + timedelta(days=7), brand="Parcelo"),
        "14 days, one brand on Reddit, by day": Filters(DAY, DAY + timedelta(days=14), brand="Lumina Mobile",
                                                        platform="reddit"),
        "14 days, all brands, by day": Filters(DAY, DAY + timedelta(days=14)),
    }


def time_view(db, settings, filters: Filters, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) milliseconds per query group, one after the other, and for the whole view as the page
    builds it (its sections side by side on their own connections), over `runs` runs after a warm-up."""
    timings: dict[str, list[tuple[float, float]]] = {
        "volume": [], "themes": [], "responses": [], "outcomes": [], "whole view": []
    }  # fmt: skip
    connect = connector(db)
    for run in range(runs + 1):
        platforms = filters.platforms(overview.known_platforms(db))
        volume = _timed(timings, "volume", overview.volume, db, settings, filters, platforms)
        _timed(timings, "themes", overview.themes, db, settings, filters, platforms)
        _timed(timings, "responses", overview.responses, db, settings, filters, platforms, volume["own_mentions"])
        _timed(timings, "outcomes", outcome_section, db, settings, filters, platforms)
        _timed(timings, "whole view", overview.build, db, settings, filters, connect)
        if run == 0:
            for values in timings.values():
                values.clear()
    return timings


def connector(db):
    """What the console passes the dashboard: a function that opens another connection to db's database."""
    if db.dialect == "postgresql":
        return partial(store.connect, db.url, migrate=False)
    path = next(row[2] for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main")
    return partial(store.connect, path, migrate=False)


def outcome_section(db, settings, filters: Filters, platforms: list[str]) -> dict:
    """What overview.build computes for the dashboard's Outcomes section: outcomes, retention, improvements."""
    return {
        "outcomes": outcome_metrics.figures(db, settings, filters, platforms),
        "retention": retention.figures(db, settings, filters),
        "improvements": {"weekly": themes.weekly(db, settings, filters),
                         "fixes": themes.fix_effects(db, settings, filters)},
    }  # fmt: skip


def _clock() -> tuple[float, float]:
    """Wall-clock and process CPU time, in seconds."""
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) milliseconds since `started`."""
    wall, cpu = _clock()
    return (wall - started[0]) * 1000, (cpu - started[1]) * 1000


def _timed(timings: dict, name: str, fn, *args):
    """Call fn(*args), adding its (wall, CPU) milliseconds to timings[name]."""
    started = _clock()
    result = fn(*args)
    timings[name].append(_since(started))
    return result


def time_spike_check(db, settings, runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds for one spike check of every watched brand (nothing is stored)."""
    timings = []
    for i in range(runs):
        started = _clock()
        for brand in spikes.watched_brands(settings):
            spikes.check_brand(db, settings, brand, DAY + timedelta(days=13, hours=i % 24), ["reddit", "x"])
        timings.append(_since(started))
    return timings


def ingest_check(rows: int) -> None:
    """Ingest rate with and without the reputation indexes, on fresh databases."""
    for label, keep in (("without", False), ("with", True)):
        with tempfile.TemporaryDirectory() as tmp:
            db = store.connect(Path(tmp) / "ingest.db")
            if not keep:
                for name in ("mentions_reputation", "mentions_answered", "mentions_assigned"):
                    db.execute(f"DROP INDEX {name}")
            rate = bench_store.ingest(db, rows, 5000)
            db.close()
        print(f"ingest {label} the reputation indexes: {rate:,.0f} mentions/s ({rows:,} rows)")


def report(name: str, values: list[tuple[float, float]]) -> str:
    """'name: wall median X ms (p90 Y), CPU median Z ms'."""
    walls, cpus = [w for w, _ in values], [c for _, c in values]
    p90 = statistics.quantiles(walls, n=10)[-1] if len(walls) > 1 else walls[0]
    return (f"{name + ':':<12} wall median {statistics.median(walls):6.1f} ms (p90 {p90:6.1f}), "
            f"CPU median {statistics.median(cpus):6.1f} ms")  # fmt: skip


def main() -> None:
    """Build (or reuse) the database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--db", default="/tmp/earshot-bench-dashboard.db")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rebuild", action="store_true", help="Build the database again even if it is ready.")
    parser.add_argument("--ingest-check", type=int, default=0, metavar="ROWS", help="Also compare ingest rates.")
    args = parser.parse_args()
    path = Path(args.db)
    clock.start_at(NOW, frozen=True)
    db = store.connect(path) if path.exists() else None
    if args.rebuild or db is None or store.get_meta(db, READY_KEY) != str(args.rows):
        if db is not None:
            db.close()
        build(path, args.rows, args.batch)
    db = store.connect(path)
    settings = settings_mod.load()
    print(f"{store.count_mentions(db):,} mentions; {args.runs} runs per view after a warm-up; target <= 200 ms "
          "per query group, Outcomes section < 300 ms")  # fmt: skip
    print("Wall time includes waiting for a CPU on a busy machine; CPU time is this process's own work.")
    print(f"Load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    for name, filters in views().items():
        timings = time_view(db, settings, filters, args.runs)
        print(f"\n{name}")
        for part, values in timings.items():
            print("  " + report(part, values))
    print("\n" + report("spike check", time_spike_check(db, settings, args.runs)))
    print(f"\nLoad average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if args.ingest_check:
        ingest_check(args.ingest_check)


if __name__ == "__main__":
    main()
