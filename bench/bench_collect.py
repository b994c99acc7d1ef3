"""Benchmark collection: mentions per second that normalize-and-store sustains on recorded-shape pages.

Run by hand:  .venv/bin/python bench/bench_collect.py [--pages 20] [--reddit-pages 10] [--runs 5]

Pages of 100 posts in the shapes of X's recent search and Reddit's search listing
go through the real path, with the network replaced by the prepared pages: the
collector's page normalization, the cursor engine, and one transaction per page
(upsert plus cursor) into a fresh SQLite file. Each figure is the median of
several runs; "re-collect" stores the same pages again (every row an update).
Reddit is slower because it detects each post's language (X supplies it). Bluesky pages
are the atproto SDK's own response models; Mastodon pages are mention notifications, 40
to a page as Mastodon sends them.
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
from collectors import bluesky, mastodon, reddit, x  # noqa: E402
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


def bluesky_pages(count: int, rng: random.Random) -> list:
    """searchPosts responses (the SDK's own models, as its Client returns them) with cursors, newest first."""
    from atproto import models

    pages, stamp = [], 1_790_000_000
    for number in range(count):
        posts = []
        for i in range(PAGE):
            stamp -= 30
            at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(stamp))
            did = f"did:plc:bench{rng.randint(1, 5000):06d}"
            uri = f"at://{did}/app.bsky.feed.post/3bench{number:04d}{i:03d}"
            posts.append({
                "uri": uri, "cid": f"bafybench{number:04d}{i:03d}", "indexedAt": at, "likeCount": rng.randint(0, 90),
                "author": {"did": did, "handle": f"user{did[-6:]}.bsky.social", "displayName": "User"},
                "record": {"$type": "app.bsky.feed.post", "text": text(rng, "Lumina Mobile", "luminamobile.bsky.social"),
                           "createdAt": at, "langs": ["en"]},
            })  # fmt: skip
        body = {"posts": posts, "cursor": f"page{number + 1}" if number < count - 1 else None}
        pages.append(models.get_or_create(body, models.AppBskyFeedSearchPosts.Response))
    return pages


def mastodon_pages(count: int, rng: random.Random) -> list[list[dict]]:
    """Mention notifications (status entities inside), newest first, 40 to a page as Mastodon sends them."""
    pages, serial = [], 120_000_000_000_000_000
    for _ in range(count * PAGE // 40):
        page = []
        for _ in range(40):
            serial -= 1000
            user = f"user{rng.randint(1, 5000)}"
            status = {
                "id": str(serial), "uri": f"https://other.example/users/{user}/statuses/{serial}",
                "url": f"https://other.example/@{user}/{serial}", "created_at": "2026-03-02T09:41:07.000Z",
                "content": f"<p>{text(rng, 'Lumina Mobile', 'LuminaMobile')}</p>", "visibility": "public",
                "language": "en", "account": {"id": "9", "username": user, "acct": f"{user}@other.example",
                "url": f"https://other.example/@{user}", "followers_count": rng.randint(0, 50_000)},
                "mentions": [], "favourites_count": rng.randint(0, 90), "reblogs_count": 0, "replies_count": 0,
            }  # fmt: skip
            page.append({"id": str(serial + 1), "type": "mention", "status": status})
        pages.append(page)
    return pages


def bluesky_collector(settings, pages: list) -> bluesky.BlueskyCollector:
    """A Bluesky collector whose API calls return the prepared pages, follower counts already known."""
    collector = bluesky.BlueskyCollector(settings, "luminamobile.bsky.social", "bench")
    collector.reach = {p.author.did: 10 for page in pages for p in page.posts}
    feed = iter(pages)
    collector._call = lambda endpoint, call: next(feed)
    return collector


def mastodon_collector(settings, pages: list) -> mastodon.MastodonCollector:
    """A Mastodon collector (the shipped config's server) whose API calls return the prepared pages."""
    collector = mastodon.MastodonCollector(settings, [(settings.sources.mastodon.servers[0], "bench")], [])
    server = next(iter(collector.servers.values()))
    server.account = {"id": "1", "acct": "LuminaMobile", "username": "LuminaMobile"}
    feed = iter(pages)
    collector._call = lambda server, endpoint, call: next(feed)
    return collector


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
    expected = sum(len(p) if isinstance(p, list) else PAGE for p in pages)
    if stored != expected:
        raise SystemExit(f"expected {expected} rows, stored {tally}")
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
    for line in measure("bluesky", settings, bluesky_collector, bluesky_pages(args.pages, rng), args.runs):
        print(line)
    pages = mastodon_pages(args.pages, rng)
    settings = mastodon_settings(settings, len(pages[0]))
    for line in measure("mastodon", settings, mastodon_collector, pages, args.runs):
        print(line)


def mastodon_settings(settings, size: int):
    """The settings with Mastodon's page size matching the prepared pages (a full page means more follow)."""
    import dataclasses

    source = dataclasses.replace(settings.sources.mastodon, page_size=size)
    return dataclasses.replace(settings, sources=dataclasses.replace(settings.sources, mastodon=source))


if __name__ == "__main__":
    main()
