"""SQLite and PostgreSQL side by side: ingest rate and the inbox page, medians, in one run.

Run by hand:  .venv/bin/python bench/bench_postgres.py [--rows 1000000] [--url postgresql://...]
Without --url a throwaway PostgreSQL server is started in a temporary folder (tests/pg_server.py)
and removed afterwards; with --url the database named must be empty (its password from
EARSHOT_DATABASE_PASSWORD). ANALYZE runs every 50,000 rows on both, as autovacuum would on PostgreSQL. Targets on PostgreSQL: ingest >= 10,000 mentions/s; inbox top 50 <= 20 ms median.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bench_store import fake_rows, time_inbox  # noqa: E402

import store  # noqa: E402
from store import postgres  # noqa: E402

ANALYZE_EVERY = 50_000  # rows between ANALYZE runs, standing in for autovacuum's (the planner needs row counts)


def ingest(db, total: int, batch: int) -> float:
    """Upsert `total` mentions in collection order, `batch` per transaction; return mentions/s of store time."""
    rng = random.Random(1)
    spent = 0.0
    for start in range(0, total, batch):
        rows = fake_rows(start, min(batch, total - start), rng, total)
        started = time.perf_counter()
        with db.atomic():
            store.upsert_mentions(db, rows)
        spent += time.perf_counter() - started
        if (start + len(rows)) % ANALYZE_EVERY < batch:
            db.execute("ANALYZE")
    return total / spent


def triage_all(db) -> None:
    """Give every mention a status and urgency (the same spread on both backends)."""
    with db.atomic():
        db.execute(
            "UPDATE mentions SET urgency = (id * 7919 % 10000) / 100.0, "
            "status = CASE id * 31 % 8 WHEN 0 THEN 'open' WHEN 1 THEN 'resolved' "
            "WHEN 2 THEN 'ignored' WHEN 3 THEN 'waiting' ELSE 'new' END"
        )
    db.execute("ANALYZE")


def time_search(db, runs: int) -> list[float]:
    """Milliseconds for a console search page (a common word)."""
    timings = []
    for i in range(runs):
        started = time.perf_counter()
        store.search_inbox(db, {"q": ("refund", "outage", "crushed")[i % 3]})
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure(name: str, db, rows: int, batch: int, runs: int) -> dict:
    """Ingest `rows` mentions, triage them, then time the inbox and search; print and return the figures."""
    print(f"{name}: ingesting {rows:,} mentions ...", flush=True)
    rate = ingest(db, rows, batch)
    triage_all(db)
    inbox = statistics.median(time_inbox(db, runs))
    search = statistics.median(time_search(db, max(runs // 4, 3)))
    print(f"{name}: ingest {rate:,.0f}/s, inbox top 50 median {inbox:.2f} ms, search median {search:.1f} ms", flush=True)
    return {"ingest": rate, "inbox": inbox, "search": search}


def worker_rate(server, count: int, workers: int) -> float:
    """Mentions/s scored by `workers` `app.py worker --once` processes on `count` unscored mentions (fresh database)."""
    import subprocess
    import tempfile

    from conftest import use_database, write_config

    url = server.url(server.create_database())
    db = store.connect(url)
    for start in range(0, count, 1000):
        with db.atomic():
            store.upsert_mentions(db, fake_rows(start, min(1000, count - start), random.Random(start), count))
    db.close()
    config = use_database(write_config(Path(tempfile.mkdtemp())), url)
    command = [sys.executable, str(ROOT / "app.py"), "--config", str(config), "worker", "--once"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)]
    for proc in procs:
        proc.wait()
    return count / (time.perf_counter() - started)


def main() -> None:
    """Run both backends and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--sqlite", default="/tmp/earshot-bench-pg-side.db")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: start a throwaway server)")
    parser.add_argument("--worker-mentions", type=int, default=0,
                        help="also time 1 and 2 scoring workers on this many mentions (throwaway server only)")
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(args.sqlite + suffix).unlink(missing_ok=True)
    results = {"SQLite": measure("SQLite", store.connect(Path(args.sqlite)), args.rows, args.batch, args.runs)}
    server = None
    url = args.url
    if not url:
        from pg_server import PgServer

        server = PgServer().start()
        os.environ[postgres.PASSWORD_ENV] = server.password
        url = server.url(server.create_database())
    try:
        db = store.connect(url)
        results["PostgreSQL"] = measure("PostgreSQL", db, args.rows, args.batch, args.runs)
        db.close()
        if server and args.worker_mentions:
            for workers in (1, 2):
                rate = worker_rate(server, args.worker_mentions, workers)
                print(f"PostgreSQL: {workers} worker(s) scored {rate:,.0f} mentions/s (model load included)")
    finally:
        postgres.close_pools()
        if server:
            server.stop()
    print(f"\n{args.rows:,} mentions    ingest/s    inbox ms (median)    search ms (median)")
    for name, figures in results.items():
        print(f"{name:<14} {figures['ingest']:>10,.0f} {figures['inbox']:>16.2f} {figures['search']:>20.1f}")


if __name__ == "__main__":
    main()
