"""Benchmark the dashboard's queries on a database of 1,000,000 mentions.

Run by hand:  .venv/bin/python bench/bench_dashboard.py [--rows 1000000] [--db /tmp/earshot-bench-dashboard.db]
Target: each view's queries (volume + share of voice, themes, responses) take a median of at most 200 ms.

The database is built once with bench_store's generator (14 days, three brands), then
scored as the classifier would (sentiment and intents), with ~6% of our brands'
mentions answered by one of six agents; later runs reuse it (--rebuild to start again).
With --ingest-check it also measures how much the reputation migration's indexes cost
ingest, on two small fresh databases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_store  # noqa: E402

import settings as settings_mod  # noqa: E402
import store  # noqa: E402
from reputation import overview, spikes  # noqa: E402
from reputation.filters import Filters  # noqa: E402

READY_KEY = "bench_dashboard_rows"
INTENTS = ('["outage"]', '["billing"]', '[]', '[]', '["outage", "billing"]', '["account_access"]', '["delivery"]')
AGENTS = ("sam", "alex", "kim", "lee", "ana", "raj")
DAY = datetime(2026, 11, 8, tzinfo=UTC)  # bench_store's first day (14 days: Nov 8-21)


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
        db.execute(
            f"UPDATE mentions SET assignee = CASE abs(random() % {len(AGENTS)}) {agents} END "
            "WHERE assignee IS NULL AND brand != 'Voltel' AND abs(random() % 100) < 2"
        )
    answered = db.execute("SELECT count(*) FROM mentions WHERE first_response_at IS NOT NULL").fetchone()[0]
    print(f"  answered {answered:,} mentions in {time.perf_counter() - started:.0f} s", flush=True)


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
    """(wall, CPU) milliseconds per query group and for the whole view, over `runs` runs after a warm-up."""
    timings: dict[str, list[tuple[float, float]]] = {"volume": [], "themes": [], "responses": [], "whole view": []}
    for run in range(runs + 1):
        started = _clock()
        platforms = filters.platforms(overview.known_platforms(db))
        volume = _timed(timings, "volume", overview.volume, db, settings, filters, platforms)
        _timed(timings, "themes", overview.themes, db, settings, filters, platforms)
        _timed(timings, "responses", overview.responses, db, settings, filters, platforms, volume["own_mentions"])
        timings["whole view"].append(_since(started))
        if run == 0:
            for values in timings.values():
                values.clear()
    return timings


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
    db = store.connect(path) if path.exists() else None
    if args.rebuild or db is None or store.get_meta(db, READY_KEY) != str(args.rows):
        if db is not None:
            db.close()
        build(path, args.rows, args.batch)
    db = store.connect(path)
    settings = settings_mod.load()
    print(f"{store.count_mentions(db):,} mentions; {args.runs} runs per view after a warm-up; target <= 200 ms")
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
