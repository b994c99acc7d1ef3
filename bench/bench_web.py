"""Server time of the console's inbox page and of a search, on a database of 1,000,000 mentions.

Run by hand: `python bench/bench_web.py [--rows 1000000] [--runs 9]`. The database is
generated once into /tmp (several minutes) and reused; pass --rebuild to start again.
Each figure is the median server time over --runs requests through Flask's test client,
after one warm-up request, logged in as an agent. The target is a median of <= 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import clock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import settings as settings_mod  # noqa: E402
import store  # noqa: E402
import users  # noqa: E402

BATCH = 20_000
PASSWORD = "bench-password-123"
WORDS = ("battery", "signal", "refund", "billing", "charged", "outage", "network", "slow", "app",
         "support", "delivery", "parcel", "late", "broken", "screen", "plan", "roaming", "upgrade",
         "thanks", "great", "love", "terrible", "waiting", "hours", "again", "today", "still")  # fmt: skip
THAI = ("แบตเตอรี่เสื่อมเร็วมาก", "เน็ตช้ามากวันนี้", "ขอบคุณที่ช่วยเหลือ", "พัสดุยังไม่มาเลย", "โทรไม่ติดเลย")
BRANDS = ("Lumina Mobile", "Parcelo", "Voltel")
SENTIMENTS = ("negative", "neutral", "positive")


def bench_settings(db_path: Path) -> settings_mod.Settings:
    """The shipped config, pointed at the benchmark database."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = db_path.with_suffix(".toml")
    config.write_text(text.replace('path = "instance/earshot.db"', f'path = "{db_path}"'), encoding="utf-8")
    return settings_mod.load(config)


def fake_row(i: int, rng: random.Random, start: datetime) -> dict:
    """One generated mention, store-ready."""
    thai = rng.random() < 0.1
    words = " ".join(rng.choices(WORDS, k=rng.randint(6, 18)))
    text = f"{rng.choice(THAI)} {words}" if thai else f"{words} #{i % 997}"
    author = f"user{rng.randint(1, 200_000)}"
    return {
        "platform": "x" if i % 3 else "reddit", "external_id": str(10**12 + i), "brand": rng.choice(BRANDS),
        "text": text, "language": "th" if thai else "en", "url": f"https://x.com/i/web/status/{10**12 + i}",
        "author_id": author, "author_handle": author, "author_name": author.title(),
        "author_reach": int(rng.paretovariate(1.2) * 50),
        "created_at": (start + timedelta(seconds=i * 30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "like_count": rng.randint(0, 50), "mentions_brand_handle": rng.random() < 0.4, "reply_via_api": True,
    }  # fmt: skip


def fake_scores(mention_id: int, rng: random.Random) -> dict:
    """Generated classifier output for one mention."""
    sentiment = rng.choice(SENTIMENTS)
    urgency = round(rng.random() ** 2 * 100, 2)
    return {"id": mention_id, "sentiment": sentiment, "sentiment_scores": {sentiment: 0.8},
            "sentiment_model": "bench", "sentiment_low_confidence": False, "urgency": urgency,
            "urgency_parts": {"negativity": urgency / 2, "intent": urgency / 2}, "intents": []}  # fmt: skip


def build(settings: settings_mod.Settings, rows: int) -> None:
    """Fill the database with generated, scored mentions, in batches."""
    db = store.connect(settings.db_path)
    rng = random.Random(7)
    start = clock.now() - timedelta(seconds=rows * 30)
    begun = time.perf_counter()
    for first in range(0, rows, BATCH):
        batch = [fake_row(i, rng, start) for i in range(first, min(rows, first + BATCH))]
        with db.atomic():
            store.upsert_mentions(db, batch)
        store.save_scores(db, [fake_scores(i + 1, rng) for i in range(first, first + len(batch))])
        print(f"  {first + len(batch):,} rows ({time.perf_counter() - begun:.0f}s)", file=sys.stderr)
    users.create(db, "bench", PASSWORD, "agent", "Bench")
    db.close()


def workflow_status(i: int, rows: int, rng: random.Random) -> str:
    """A realistic status: the last ~3 days are still being worked, older mentions are closed."""
    if i < rows - 8_000:
        return rng.choices(("resolved", "ignored", "waiting"), (92, 6, 2))[0]
    return rng.choices(("new", "open", "waiting", "resolved"), (50, 20, 10, 20))[0]


def set_statuses(settings: settings_mod.Settings, rows: int) -> None:
    """Move the generated mentions through the workflow (once), then refresh the planner's statistics."""
    db = store.connect(settings.db_path)
    if store.get_meta(db, "bench.statuses") is None:
        rng = random.Random(11)
        for first in range(0, rows, BATCH):
            groups: dict[str, list[int]] = {}
            for i in range(first, min(rows, first + BATCH)):
                groups.setdefault(workflow_status(i, rows, rng), []).append(i + 1)
            for status, ids in groups.items():
                if status != "new":
                    store.set_status(db, ids, status, "bench")
            print(f"  statuses for {min(rows, first + BATCH):,} rows", file=sys.stderr)
        db.execute("ANALYZE")
        store.set_meta(db, "bench.statuses", "1")
    db.close()


def median_ms(client, url: str, runs: int) -> float:
    """Median server time of GET url, in milliseconds (one warm-up first)."""
    client.get(url)
    times = []
    for _ in range(runs):
        begun = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - begun) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return statistics.median(times)


def main() -> None:
    """Build the database if needed, then time the pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    db_path = Path(f"/tmp/earshot-bench-{args.rows}.db")
    if args.rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = bench_settings(db_path)
    if not db_path.exists():
        print(f"Building {args.rows:,} mentions in {db_path} (once)...", file=sys.stderr)
        build(settings, args.rows)
    set_statuses(settings, args.rows)
    from web import create_app

    client = create_app(settings, secret_key="bench", demo=True, testing=True).test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    pages = {
        "inbox, 50 rows by urgency": "/",
        "inbox, brand + sentiment filter": "/?brand=Parcelo&sentiment=negative",
        "inbox, Thai only, unassigned": "/?language=th&assignee=none",
        "inbox, resolved tab": "/?status=resolved",
        "search 'refund'": "/?q=refund",
        "search Thai 'แบตเตอรี่'": "/?q=แบตเตอรี่",
        "search rare '#123 outage'": "/?q=%23123+outage",
    }
    print(f"Server time, median of {args.runs} ({args.rows:,} mentions):")
    for label, url in pages.items():
        print(f"  {label:34} {median_ms(client, url, args.runs):7.1f} ms")


if __name__ == "__main__":
    main()
