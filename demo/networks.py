"""The demo's Bluesky and Mastodon mentions, and its customers seen on two networks (demo/data/networks.toml)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import store

from . import content
from .records import Item

WEB = {"bluesky": "https://bsky.app"}


def items(now: datetime, seed: int = 7) -> list[Item]:
    """Every Bluesky and Mastodon demo mention, oldest first."""
    data = content.read("networks")
    letters = content.load().brands
    found = [_item(post, letters, now, seed) for post in data["posts"]]
    return sorted(found, key=lambda i: i.record["created_at"])


def link_customers(db, actor: str = "admin") -> int:
    """Link each demo customer's accounts (those stored); return how many links were made."""
    made = 0
    for customer in content.read("networks")["customers"]:
        (platform, handle), *others = customer["accounts"]
        author_id = store.find_account(db, platform, handle)
        mention = _latest(db, platform, author_id) if author_id else None
        for other, other_handle in others if mention else ():
            if store.find_account(db, other, other_handle):
                store.link_account(db, mention, other, other_handle, actor)
                made += 1
    return made


def _latest(db, platform: str, author_id: str) -> dict | None:
    """The author's newest stored mention (where the link is recorded)."""
    row = db.execute(
        "SELECT id FROM mentions WHERE platform = ? AND author_id = ? ORDER BY created_at DESC LIMIT 1",
        [platform, author_id],
    ).fetchone()
    return store.get_mention(db, row[0]) if row else None


def _item(post: dict, letters: dict, now: datetime, seed: int) -> Item:
    """One post as a demo Item in Earshot's import format."""
    platform, author = post["platform"], post["author"]
    key = int.from_bytes(
        hashlib.sha256(f"earshot-demo:{seed}:{platform}:{post['text']}".encode()).digest()[:8], "big"
    )
    record = {
        "platform": platform, "brand": letters[post["brand"]]["name"], "text": post["text"], "language": post["lang"],
        "author": author, "author_name": post["name"], "author_followers": post["followers"],
        "created_at": store.utc_text(_when(post["when"], now)), **_ids(platform, author, key),
    }  # fmt: skip
    plan = (post["plan"][0], False, post["plan"][1]) if "plan" in post else ("new", False, None)
    return Item(record=record, brand=post["brand"], cat=post["cat"], lang=post["lang"], plan=plan)


def _ids(platform: str, author: str, key: int) -> dict:
    """The id, author id and URL a post of this network would have."""
    if platform == "bluesky":
        did, rkey = f"did:plc:demo{_short(author)}", f"3kdemo{key % 10**7:07d}"
        return {"id": f"at://{did}/app.bsky.feed.post/{rkey}", "author_id": did,
                "url": f"{WEB['bluesky']}/profile/{author}/post/{rkey}"}  # fmt: skip
    user, _, server = author.partition("@")
    status = 112_000_000_000_000_000 + key % 10**15
    return {"id": f"https://{server}/users/{user}/statuses/{status}", "author_id": f"https://{server}/users/{user}",
            "url": f"https://{server}/@{user}/{status}"}  # fmt: skip


def _short(text: str) -> str:
    """A stable 12-digit number for a handle."""
    return f"{int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % 10**12:012d}"


def _when(spec: str, now: datetime) -> datetime:
    """'dN HH:MM' (N days ago) or 'mN' (N minutes ago)."""
    if spec.startswith("m"):
        return now - timedelta(minutes=int(spec[1:]))
    day, at = spec.split()
    hours, minutes = (int(p) for p in at.split(":"))
    start = now.replace(hour=0, minute=0, second=0) - timedelta(days=int(day[1:]))
    return min(start + timedelta(hours=hours, minutes=minutes), now - timedelta(minutes=5))
