"""Benchmark collection: mentions per second that normalize-and-store sustains on recorded-shape pages.

Run by hand:  .venv/bin/python bench/bench_collect.py [--pages 20] [--reddit-pages 10] [--runs 5]

Pages of 100 posts in the shapes of X's recent search and Reddit's search listing
go through the real path, with the network replaced by the prepared pages: the
collector's page normalization, the cursor engine, and one transaction per page
(upsert plus cursor) into a fresh SQLite file. Each figure is the median of
several runs; "re-collect" stores the same pages again (every row an update).
Reddit is slower because it detects each post's language (X supplies it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import settings as settings_mod  # noqa: E402
import store  # noqa: E402
from collectors import reddit, x  # noqa: E402
from collectors.sweep import collect_query  # noqa: E402

PAGE = 100
PHRASES = [
    "{brand} charged me twice this month and support keeps closing my ticket",
    "switched to {brand} last week and the coverage on my commute is honestly great",
    "@{handle} my parcel says delivered but nobody came, can you check order {n}?",
    "is {brand} down for anyone else? no signal since this morning",
    "thanks @{handle} for sorting out my refund so fast, really appreciated",
    "{brand} app keeps logging me out after the update, pretty annoying tbh",
    "anyone know if {brand} includes roaming in Spain on the basic plan?",
]


def text(rng: random.Random, brand: str, handle: str) -> str:
    """One varied mention text."""
    return rng.choice(PHRASES).format(brand=brand, handle=handle, n=rng.randint(1000, 9999))


def x_pages(count: int, rng: random.Random) -> list[dict]:
    """X search pages (data, includes.users, meta with next_token), newest first."""
    pages, next_id = [], 1_900_000_000_000_000_000
    for number in range(count):
        posts, users = [], {}
        for _ in range(PAGE):
            next_id -= 1000
            author = str(rng.randint(1, 5000))
            body = text(rng, "Lumina Mobile", "LuminaMobile")
            posts.append({
                "id": str(next_id), "text": body, "author_id": author, "lang": "en",
                "created_at": "2026-03-02T09:41:07.000Z", "conversation_id": str(next_id),
                "edit_history_tweet_ids": [str(next_id)],
                "public_metrics": {"retweet_count": rng.randint(0, 9), "reply_count": rng.randint(0, 5),
                                   "like_count": rng.randint(0, 90), "quote_count": 0},
                "entities": {"mentions": [{"start": 0, "end": 13, "username": "LuminaMobile"}]} if "@" in body else {},
            })  # fmt: skip
            users[author] = {"id": author, "username": f"user{author}", "name": f"User {author}", "verified": False,
                             "public_metrics": {"followers_count": rng.randint(0, 50_000)}}  # fmt: skip
        meta = {"newest_id": posts[0]["id"], "oldest_id": posts[-1]["id"], "result_count": PAGE}
        if number < count - 1:
            meta["next_token"] = f"page{number + 1}"
        pages.append({"data": posts, "includes": {"users": list(users.values())}, "meta": meta})
    return pages


def reddit_pages(count: int, rng: random.Random) -> list[dict]:
    """Reddit search Listings of t3 submissions with ``after``, newest first."""
    pages, created, serial = [], 1_790_000_000.0, 0
    for number in range(count):
        children = []
        for _ in range(PAGE):
            serial += 1
            created -= 30
            short = f"b{serial:06d}"
            children.append({"kind": "t3", "data": {
                "id": short, "name": f"t3_{short}", "title": text(rng, "Lumina Mobile", "LuminaMobile_Official"),
                "selftext": text(rng, "Lumina Mobile", "LuminaMobile_Official"), "author": f"redditor{serial % 700}",
                "author_fullname": f"t2_{serial % 700}", "created_utc": created, "score": rng.randint(-2, 200),
                "num_comments": rng.randint(0, 40), "num_crossposts": 0, "subreddit": "smartphones",
                "permalink": f"/r/smartphones/comments/{short}/a_title/", "locked": False, "archived": False,
            }})  # fmt: skip
        after = children[-1]["data"]["name"] if number < count - 1 else None
        pages.append({"kind": "Listing", "data": {"after": after, "dist": PAGE, "children": children}})
    return pages


def x_collector(settings, pages: list[dict]) -> x.XCollector:
    """An X collector whose API calls return the prepared pages in order."""
    collector = x.XCollector(settings, {"bearer_token": "bench"})
    feed = iter(pages)
    collector._call = lambda endpoint, method, **params: next(feed)
    return collector


def reddit_collector(settings, pages: list[dict]) -> reddit.RedditCollector:
    """A Reddit collector whose API calls return the prepared pages, karma already cached."""
    creds = {"client_id": "bench", "client_secret": "bench", "user_agent": "linux:bench:1.0 (by /u/bench)",
             "username": None, "password": None, "refresh_token": None}  # fmt: skip
    collector = reddit.RedditCollector(settings, creds)
    collector.karma = {f"t2_{i}": i * 3 for i in range(700)}
    feed = iter(pages)
    collector._get = lambda path, params: next(feed)
    return collector


def one_run(settings, make: Callable, pages: list[dict], repeat: bool) -> float:
    """Mentions per second storing ``pages`` into a fresh database (twice if ``repeat``; the 2nd is timed)."""
    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "bench.db")
        for _ in range(2 if repeat else 1):
            collector = make(settings, pages)
            query = next(iter(collector.queries()))
            store.set_cursor(db, collector.source, query.brand_key, query.key, "{}")  # start over each round
            started = time.perf_counter()
            tally = collect_query(db, collector, query, budget=len(pages))
            elapsed = time.perf_counter() - started
        db.close()
    stored = tally.updated if repeat else tally.new
    if stored != len(pages) * PAGE:
        raise SystemExit(f"expected {len(pages) * PAGE} rows, stored {tally}")
    return stored / elapsed


def measure(name: str, settings, make: Callable, pages: list[dict], runs: int) -> Iterator[str]:
    """Lines reporting the median rate of new-row and re-collect runs."""
    for repeat, label in ((False, "new"), (True, "re-collect")):
        rates = [one_run(settings, make, pages, repeat) for _ in range(runs)]
        yield (f"{name:<7} {label:<10} {statistics.median(rates):8.0f} mentions/s "
               f"(median of {runs}; min {min(rates):.0f}, max {max(rates):.0f})")  # fmt: skip


def main() -> None:
    """Build pages, run each benchmark, print the figures."""
    parser = argparse.ArgumentParser(description="Collection normalize-and-store throughput.")
    parser.add_argument("--pages", type=int, default=20, help="X pages of 100 mentions per run (default 20)")
    parser.add_argument("--reddit-pages", type=int, default=10, help="Reddit pages per run (default 10)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is reported (default 5)")
    args = parser.parse_args()
    settings = settings_mod.load()
    rng = random.Random(7)
    print(f"pages of {PAGE} mentions, one transaction per page; X {args.pages}, Reddit {args.reddit_pages} pages per run")
    for line in measure("x", settings, x_collector, x_pages(args.pages, rng), args.runs):
        print(line)
    reddit.detect_language("warm up the language profiles once")
    for line in measure("reddit", settings, reddit_collector, reddit_pages(args.reddit_pages, rng), args.runs):
        print(line)


if __name__ == "__main__":
    main()
