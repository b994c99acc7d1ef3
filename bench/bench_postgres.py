"""SQLite and PostgreSQL side by side: ingest rate, the inbox page and the dashboard, medians, in one run.

Run by hand:  .venv/bin/python bench/bench_postgres.py [--rows 1000000] [--url postgresql://...]
Without --url a throwaway PostgreSQL server is started in a temporary folder (tests/pg_server.py,
with SERVER_SETTINGS below: durable commits, 4 GB of shared buffers) and removed afterwards; with --url the database named must be empty (its password from
EARSHOT_DATABASE_PASSWORD). ANALYZE runs every 50,000 rows on both, as autovacuum would on PostgreSQL.
After ingest every mention is triaged and scored, ~6% of our brands' mentions are answered,
and the dashboard's views (bench_dashboard's: volume, themes, responses and the Outcomes
section) are timed on both backends. On PostgreSQL, where scoring workers index search after the
writes, one indexing process runs alongside ingest, and the time search takes to catch up after
the last write is shown. Targets on PostgreSQL: ingest >= 10,000 mentions/s;
inbox top 50 <= 20 ms median; each dashboard view <= 300 ms median.
--postgresql-only skips SQLite (for a 10M-row run); --loaders N also times N processes ingesting
into one fresh PostgreSQL database at once, which SQLite's single writer cannot do.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import bench_dashboard  # noqa: E402
from bench_store import fake_rows, time_inbox  # noqa: E402

import settings as settings_mod  # noqa: E402
import store  # noqa: E402
from store import postgres  # noqa: E402

# The throwaway server runs as a production one would on this machine: durable commits
# (unlike the test suite's server) and a quarter of memory as shared buffers.
SERVER_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
                   "shared_buffers": "4GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}  # fmt: skip
ANALYZE_EVERY = (
    50_000  # rows between ANALYZE runs, standing in for autovacuum's (the planner needs row counts)
)


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


def _index_until_told(url: str, password: str, batch: int, done, drained) -> None:
    """An indexing process, as a scoring worker runs it: index queued mentions while they come; drain after `done`."""
    os.environ[postgres.PASSWORD_ENV] = password
    db = store.connect(url)
    while True:
        finishing = done.is_set()
        if store.catch_up_search(db, batch, passes=1) < batch:
            if finishing:
                break
            time.sleep(0.2)
    drained.set()
    db.close()
    postgres.close_pools()


def ingest_while_indexing(db, total: int, batch: int, name: str) -> float:
    """PostgreSQL ingest with one indexing process alongside (as workers index search); return the ingest rate.

    Prints the ingest rate (store time), how long search indexing took to catch up after the
    last write, and the whole run's rate from first write to the last mention indexed.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    done, drained = context.Event(), context.Event()
    indexer = context.Process(target=_index_until_told,
                              args=(db.url, os.environ[postgres.PASSWORD_ENV], batch, done, drained))  # fmt: skip
    indexer.start()
    started = time.perf_counter()
    rate = ingest(db, total, batch)
    written = time.perf_counter()
    done.set()
    while not drained.wait(1):
        if not indexer.is_alive():
            raise SystemExit(f"the indexing process stopped (exit code {indexer.exitcode})")
    caught_up = time.perf_counter()
    indexer.join()
    print(f"{name}: ingest {rate:,.0f}/s with an indexing process alongside; search caught up "
          f"{caught_up - written:.1f} s after the last write; {total / (caught_up - started):,.0f} mentions/s "
          "written and indexed, wall time with row generation", flush=True)  # fmt: skip
    return rate


def _load_part(url: str, password: str, total: int, batch: int, part: int, parts: int, ready) -> None:
    """One loader process: upsert every `parts`-th batch of `total` mentions, starting at batch `part`."""
    os.environ[postgres.PASSWORD_ENV] = password
    db = store.connect(url)
    rng = random.Random(part)
    ready.wait()
    for start in range(part * batch, total, parts * batch):
        rows = fake_rows(start, min(batch, total - start), rng, total)
        with db.atomic():
            store.upsert_mentions(db, rows)
    db.close()
    postgres.close_pools()


def parallel_ingest(url: str, total: int, batch: int, loaders: int) -> float:
    """Mentions/s of wall time for `loaders` processes writing disjoint batches into one fresh database at once.

    Row generation is inside the timed span here (each process makes its own rows).
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(loaders + 1)
    password = os.environ.get(postgres.PASSWORD_ENV, "")
    procs = [
        context.Process(target=_load_part, args=(url, password, total, batch, k, loaders, ready))
        for k in range(loaders)
    ]
    for proc in procs:
        proc.start()
    ready.wait()
    started = time.perf_counter()
    for proc in procs:
        proc.join()
    if any(proc.exitcode for proc in procs):
        raise SystemExit("a loader process failed")
    return total / (time.perf_counter() - started)


def triage_all(db) -> None:
    """Give every mention a status and urgency (the same spread on both backends)."""
    with db.atomic():
        db.execute(
            "UPDATE mentions SET urgency = (id * 7919 % 10000) / 100.0, "
            "status = CASE id * 31 % 8 WHEN 0 THEN 'open' WHEN 1 THEN 'resolved' "
            "WHEN 2 THEN 'ignored' WHEN 3 THEN 'waiting' ELSE 'new' END"
        )
    db.execute("ANALYZE")


def score_and_answer(db) -> None:
    """Score every mention (a fixed spread of sentiment and intents) and answer ~6% of our brands' (same SQL on both)."""
    intents = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(bench_dashboard.INTENTS))
    agents = " ".join(f"WHEN {i} THEN '{a}'" for i, a in enumerate(bench_dashboard.AGENTS))
    later = (
        "to_char(created_at::timestamp + (5 + id % 240) * interval '1 minute', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        if db.dialect == "postgresql"
        else "strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+' || (5 + id % 240) || ' minutes')"
    )
    with db.atomic():
        db.execute(
            "UPDATE mentions SET scored_at = created_at, sentiment = CASE WHEN id * 13 % 20 < 5 THEN 'positive' "
            "WHEN id * 13 % 20 < 12 THEN 'neutral' ELSE 'negative' END, "
            f"intents = CASE id * 11 % {len(bench_dashboard.INTENTS)} {intents} END"
        )
        db.execute(
            f"UPDATE mentions SET first_response_at = {later}, assignee = CASE id % {len(bench_dashboard.AGENTS)} "
            f"{agents} END WHERE brand != 'Voltel' AND id * 17 % 100 < 6"
        )
        db.execute(
            "INSERT INTO replies (mention_id, idempotency_key, author, body, status, created_at, sent_at) "
            "SELECT id, 'bench-' || id, assignee, 'Sorry about this!', 'sent', first_response_at, first_response_at "
            "FROM mentions WHERE first_response_at IS NOT NULL"
        )
        # As when a reply is sent, the answer is recorded after the reply: the trigger finds its author.
        db.execute("UPDATE mentions SET first_response_at = first_response_at WHERE first_response_at IS NOT NULL")
    # After a bulk update autovacuum would mark the pages all-visible, so index-only scans skip the table.
    db.execute("VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE")


def time_dashboard(db, runs: int) -> dict[str, float]:
    """Median whole-view milliseconds (wall) of each of bench_dashboard's dashboard views."""
    settings = settings_mod.load()
    medians = {}
    for name, filters in bench_dashboard.views().items():
        timings = bench_dashboard.time_view(db, settings, filters, runs)
        medians[name] = statistics.median(w for w, _ in timings["whole view"])
        parts = ", ".join(
            f"{part} {statistics.median(w for w, _ in values):.1f}" for part, values in timings.items()
        )
        print(f"  {name}: {parts} ms (medians)", flush=True)
    return medians


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
    if db.dialect == "postgresql":
        rate = ingest_while_indexing(db, rows, batch, name)
    else:
        rate = ingest(db, rows, batch)
    triage_all(db)
    inbox = statistics.median(time_inbox(db, runs))
    search = statistics.median(time_search(db, max(runs // 4, 3)))
    print(
        f"{name}: ingest {rate:,.0f}/s, inbox top 50 median {inbox:.2f} ms, search median {search:.1f} ms",
        flush=True,
    )
    started = time.perf_counter()
    score_and_answer(db)
    print(
        f"{name}: scored and answered in {time.perf_counter() - started:.0f} s; timing the dashboard",
        flush=True,
    )
    dashboard = time_dashboard(db, max(runs // 10, 5))
    return {"ingest": rate, "inbox": inbox, "search": search, "dashboard": max(dashboard.values())}


def worker_rate(server, count: int, workers: int, home: Path) -> float:
    """Mentions/s scored by `workers` `app.py worker --once` processes on `count` unscored mentions (fresh database).

    The workers share one config folder in ``home``, whose int8 ONNX graph is built before the
    clock starts, as on a server that has scored before; each process still loads the model.
    """
    import subprocess

    from conftest import use_database, write_config

    from classifier import fast
    from classifier.model import BUNDLED_DIR, models_dir

    url = server.url(server.create_database())
    db = store.connect(url)
    for start in range(0, count, 1000):
        with db.atomic():
            store.upsert_mentions(db, fake_rows(start, min(1000, count - start), random.Random(start), count))
    db.close()
    folder = home / f"workers-{workers}"
    folder.mkdir()
    config = use_database(write_config(folder), url)
    # Built here, not through get_model, whose per-process cache would skip the second folder.
    fast.cached_graph(BUNDLED_DIR, models_dir(settings_mod.load(config)) / "onnx")
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
    parser.add_argument(
        "--worker-mentions",
        type=int,
        default=0,
        help="also time 1 and 2 scoring workers on this many mentions (throwaway server only)",
    )
    parser.add_argument("--postgresql-only", action="store_true", help="skip SQLite")
    parser.add_argument("--loaders", type=int, default=0,
                        help="also time this many loader processes writing at once (throwaway server only)")  # fmt: skip
    args = parser.parse_args()
    results = {}
    if not args.postgresql_only:
        for suffix in ("", "-wal", "-shm"):
            Path(args.sqlite + suffix).unlink(missing_ok=True)
        results["SQLite"] = measure(
            "SQLite", store.connect(Path(args.sqlite)), args.rows, args.batch, args.runs
        )
    server = None
    url = args.url
    if not url:
        from pg_server import PgServer

        server = PgServer(SERVER_SETTINGS).start()
        os.environ[postgres.PASSWORD_ENV] = server.password
        url = server.url(server.create_database())
    try:
        db = store.connect(url)
        results["PostgreSQL"] = measure("PostgreSQL", db, args.rows, args.batch, args.runs)
        db.close()
        if server and args.loaders > 1:
            loaders_url = server.url(server.create_database())
            store.connect(loaders_url).close()  # migrate once, before the loaders start
            rate = parallel_ingest(loaders_url, args.rows, args.batch, args.loaders)
            print(
                f"PostgreSQL: {args.loaders} loader processes at once ingested {rate:,.0f} mentions/s (wall)"
            )
        if server and args.worker_mentions:
            with tempfile.TemporaryDirectory(prefix="earshot-bench-workers-") as home:
                for workers in (1, 2):
                    rate = worker_rate(server, args.worker_mentions, workers, Path(home))
                    print(f"PostgreSQL: {workers} worker(s) scored {rate:,.0f} mentions/s (model load included)")
    finally:
        postgres.close_pools()
        if server:
            server.stop()
    print(
        f"\n{args.rows:,} mentions    ingest/s    inbox ms (median)    search ms (median)    slowest dashboard view ms (median)"
    )
    for name, figures in results.items():
        print(f"{name:<14} {figures['ingest']:>10,.0f} {figures['inbox']:>16.2f} {figures['search']:>20.1f} "
              f"{figures['dashboard']:>30.1f}")  # fmt: skip
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
