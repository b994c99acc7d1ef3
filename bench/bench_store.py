"""Benchmark the store: ingest rate and the inbox query on a database of 1,000,000 mentions.

Run by hand:  .venv/bin/python bench/bench_store.py [--rows 1000000] [--db /tmp/earshot-bench.db]
Targets: ingest >= 10,000 mentions/s; inbox query (top 50 by urgency, by brand and status) <= 20 ms median.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import store  # noqa: E402

BRANDS = ("Lumina Mobile", "Parcelo", "Voltel")
STATUSES = ("new", "new", "new", "open", "waiting", "resolved", "resolved", "ignored")
WORDS = (
    "parcel late refund signal outage billing charged twice driver crushed love thanks "
    "account locked password app crash roaming fee store staff great awful waiting"
).split()


def fake_rows(start: int, count: int, rng: random.Random, total: int | None = None,
              raw_bytes: int = 0) -> list[dict]:  # fmt: skip
    """`count` plausible mention rows with ids from `start`.

    With `total`, timestamps rise with the id over 14 days, as a collector writes
    them; without, they are scattered at random, as a historical import might be.
    With `raw_bytes`, each row carries a raw API payload of about that size.
    """
    rows = []
    for i in range(start, start + count):
        day = min(13, i * 14 // total) if total else rng.randrange(14)
        rows.append({
            "platform": "x" if i % 3 else "reddit", "external_id": str(10**15 + i),
            "brand": BRANDS[i % 3], "text": " ".join(rng.choices(WORDS, k=rng.randint(6, 30))),
            "language": "en", "author_id": str(i % 50_000), "author_handle": f"user{i % 50_000}",
            "author_reach": rng.randrange(100_000), "created_at": f"2026-11-{8 + day:02d}T{rng.randrange(24):02d}:00:00Z",
            "like_count": rng.randrange(50), "raw": _payload(i, raw_bytes, rng) if raw_bytes else None,
        })  # fmt: skip
    return rows


def _payload(i: int, size: int, rng: random.Random) -> str:
    """A JSON stand-in for a platform's raw payload, about `size` bytes long."""
    return json.dumps({"id": str(10**15 + i), "public_metrics": {"like_count": rng.randrange(50)},
                       "entities": "".join(rng.choices(WORDS, k=size // 6))[:size]})  # fmt: skip


def ingest(db, total: int, batch: int, ordered: bool = False, raw_bytes: int = 0) -> float:
    """Upsert `total` mentions in transactions of `batch`; return mentions/s of store time.

    Generating the fake rows is not timed: only `store.upsert_mentions` and its commit are.
    """
    rng = random.Random(1)
    spent = 0.0
    for start in range(0, total, batch):
        rows = fake_rows(start, min(batch, total - start), rng, total if ordered else None, raw_bytes)
        started = time.perf_counter()
        with db.atomic():
            store.upsert_mentions(db, rows)
        spent += time.perf_counter() - started
        done = start + len(rows)
        if done % 100_000 == 0:
            print(f"  {done:>9,} rows, {done / spent:,.0f}/s", flush=True)
    return total / spent


def score_all(db) -> None:
    """Give every mention a status and urgency, as triage and the classifier would."""
    with db.atomic():
        db.execute(
            "UPDATE mentions SET urgency = abs(random() % 10000) / 100.0, "
            "status = CASE abs(random() % 8) WHEN 0 THEN 'open' WHEN 1 THEN 'resolved' "
            "WHEN 2 THEN 'ignored' WHEN 3 THEN 'waiting' ELSE 'new' END"
        )
    db.execute("ANALYZE")


def time_inbox(db, runs: int) -> list[float]:
    """Milliseconds for the console's inbox query, over several brands and statuses."""
    timings = []
    for i in range(runs):
        brand, status = BRANDS[i % 3], ("new", "open", "waiting")[i % 3]
        started = time.perf_counter()
        rows = store.inbox_mentions(db, {"brand": brand, "status": status}, limit=50)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(rows) == 50
    return timings


def main() -> None:
    """Build (or reuse) the database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--db", default="/tmp/earshot-bench-store.db")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument(
        "--ordered", action="store_true", help="timestamps rise with each batch, as collectors write them"
    )
    parser.add_argument(
        "--raw-bytes", type=int, default=0, help="store a raw API payload of about this size with each mention"
    )
    args = parser.parse_args()
    path = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = store.connect(path)
    order = "in collection order" if args.ordered else "with scattered timestamps"
    payload = f", {args.raw_bytes:,}-byte raw payloads" if args.raw_bytes else ", no raw payloads"
    print(f"Ingesting {args.rows:,} mentions {order}{payload} into {path} ...")
    rate = ingest(db, args.rows, args.batch, args.ordered, args.raw_bytes)
    print(f"ingest: {rate:,.0f} mentions/s (target >= 10,000)")
    score_all(db)
    timings = time_inbox(db, args.runs)
    print(
        f"inbox query (top 50 by urgency, brand + status): median {statistics.median(timings):.2f} ms, "
        f"p90 {statistics.quantiles(timings, n=10)[-1]:.2f} ms over {len(timings)} runs (target <= 20 ms)"
    )


if __name__ == "__main__":
    main()
