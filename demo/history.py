"""Loading the demo: its mentions, and on the first load the staff history of working them."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import formats
import store

from . import content, networks
from .records import Item, _reddit_base, _reddit_id, _utc, _x_id, build

META_KEY = "demo_loaded_at"


def load_demo(db, settings, now: datetime | None = None, seed: int = 7) -> dict:
    """Upsert the demo mentions and, on the first load only, the staff history; return counts."""
    now = _utc(now)
    configured = {b.name.lower() for b in settings.brands}
    everything = build(now, seed) + networks.items(now, seed)  # Bluesky and Mastodon last: X and Reddit stay as they were
    items = [item for item in everything if item.record["brand"].lower() in configured]
    rows = [formats.to_mention(item.record, settings) for item in items]
    history = {"replies": 0, "tags": 0, "notes": 0}
    with db.atomic():
        new, updated = store.upsert_mentions(db, rows)
        first_load = store.get_meta(db, META_KEY) is None
        if first_load:
            history = _History(db, now, seed).run(items)
            networks.link_customers(db)
            store.set_meta(db, META_KEY, store.utc_text(now))
    return {"mentions": len(rows), "new": new, "updated": updated, **history, "history_added": first_load}


# Staff history, spread over two weeks: written through the store's helpers with
# historical timestamps (`at`).


class _History:
    """Writes the staff history of the demo mentions (first load only)."""

    def __init__(self, db, now: datetime, seed: int):
        """Remember where and when to write."""
        self.db, self.now, self.seed = db, now, seed
        self.rng = random.Random(seed * 31 + 5)
        self.c = content.load()
        self.agents = tuple(name for name, role, _ in self.c.users if role == "agent")
        self.agent_names = {name: display for name, _, display in self.c.users}
        self.counts = {"replies": 0, "tags": 0, "notes": 0}

    def run(self, items: list[Item]) -> dict:
        """Work every demo mention; return how many replies, tags and notes were written."""
        ids = store.mention_ids(self.db, [(i.record["platform"], i.record["id"]) for i in items])
        for item in items:
            mention_id = ids.get((item.record["platform"], item.record["id"]))
            if mention_id is not None:
                self._work(item, mention_id)
        return self.counts

    def _plan(self, item: Item, age: timedelta) -> tuple[str, bool, str | None]:
        """(status, replied, agent) for a mention without a scripted plan."""
        agent = self.rng.choice(self.agents)
        old, roll = age > timedelta(hours=12), self.rng.random()
        if item.brand == "V":  # a competitor: listened to, never answered
            return ("ignored", False, None) if old and roll < 0.35 else ("new", False, None)
        if item.cat == "spam":
            return ("ignored", False, None) if age > timedelta(hours=3) and roll < 0.85 else ("new", False, None)
        if item.cat == "news":
            return ("ignored", False, None) if old and roll < 0.55 else ("new", False, None)
        if item.spike and old:
            if roll < 0.62:
                return "resolved", True, agent
            return ("open", False, agent) if roll < 0.72 else ("new", False, None)
        if old:
            if roll < 0.27:
                return "resolved", True, agent
            if roll < 0.34:
                return "waiting", True, agent
            return ("open", False, agent) if roll < 0.44 else ("new", False, None)
        if roll < 0.10:
            return "open", False, agent
        return ("waiting", True, agent) if roll < 0.18 else ("new", False, None)

    def _work(self, item: Item, mention_id: int) -> None:
        """Apply one mention's history: reply, status, assignee, tags and note."""
        created = store.parse_utc(item.record["created_at"])
        status, replied, agent = item.plan or self._plan(item, self.now - created)
        if item.reply_id and not replied:  # a later post answers our reply, so there was one
            replied, status = True, "waiting" if status == "new" else status
        agent = agent or self.rng.choice(self.agents)
        acted = created + timedelta(minutes=self.rng.randint(10, 300))
        if replied:
            sent = self._reply(item, mention_id, created, agent)
            if sent is None and status in ("waiting", "resolved"):
                status = "open"
            acted = sent or acted
        acted = min(acted, self.now - timedelta(minutes=1))
        if status != "new":
            assignee = None if status == "ignored" else agent
            store.set_demo_status(self.db, mention_id, status, assignee, agent, store.utc_text(acted))
        self._tag(item, mention_id, acted, agent, handled=status != "new" or replied)
        if item.note:
            store.add_note(self.db, mention_id, agent, item.note, at=store.utc_text(acted))
            self.counts["notes"] += 1

    def _delay(self, item: Item) -> timedelta:
        """How long after the mention we replied: 5 to 240 minutes, faster for urgent ones."""
        minutes = math.exp(self.rng.gauss(3.5, 0.75))
        if "vip" in item.tags or item.cat in self.c.always_tagged:
            minutes *= 0.4
        if item.spike:
            minutes = 45 + minutes * 1.5  # the team was swamped
        return timedelta(minutes=max(5.0, min(240.0, minutes)))

    def _body(self, item: Item, agent: str) -> str:
        """Our reply in the mention's language, signed by the agent."""
        if item.reply_text:
            return item.reply_text.format(agent=self.agent_names[agent])
        if item.lang in ("th", "es"):
            key = f"{item.lang}_praise" if item.cat == "praise" else item.lang
        elif item.spike and item.cat in ("outage", "sarcasm", "cancel", "billing", "safety"):
            key = "outage_spike"
        else:
            key = item.cat if item.cat in self.c.replies else "question"
        return self.rng.choice(self.c.replies[key]).format(agent=self.agent_names[agent])

    def _reply(self, item: Item, mention_id: int, created: datetime, agent: str) -> datetime | None:
        """Record our demo reply (5-240 minutes after the mention); return when it was sent, or None."""
        latest = min(item.reply_before or self.now, self.now) - timedelta(minutes=1)
        sent = created + self._delay(item)
        if sent > latest:
            room = (latest - created).total_seconds()
            if room < 5 * 60:
                return None
            sent = created + timedelta(seconds=self.rng.uniform(5 * 60, room))
        sent = sent.replace(microsecond=0)
        record, platform = item.record, item.record["platform"]
        key = f"reply/{record['id']}"
        reply_id = item.reply_id or (_x_id(self.seed, key) if platform == "x" else _reddit_id(self.seed, key, "t1"))
        if platform == "x":
            url = f"https://x.com/{self.c.brands[item.brand]['x'][-1]}/status/{reply_id}"
        else:
            url = f"{_reddit_base(record)}{reply_id[3:]}/"
        composed = sent - timedelta(seconds=self.rng.randint(20, 240))
        body, idempotency_key = self._body(item, agent), f"demo:{platform}:{record['id']}"
        added = store.add_demo_reply(self.db, mention_id, idempotency_key, agent, body, reply_id, url,
                                     store.utc_text(max(composed, created)), store.utc_text(sent))  # fmt: skip
        if added is None:
            return None
        self.counts["replies"] += 1
        return sent

    def _tag(self, item: Item, mention_id: int, at: datetime, agent: str, handled: bool) -> None:
        """Tag as staff would: most handled mentions, a few new ones, always VIPs and serious issues."""
        tags = list(item.tags)
        tag = "outage" if item.spike and item.cat != "news" else self.c.tag_for.get(item.cat)
        if tag and (item.cat in self.c.always_tagged or self.rng.random() < (0.75 if handled else 0.12)):
            tags.append(tag)
        if item.record["author_followers"] >= 100_000 and item.brand != "V" and item.cat != "news":
            tags.append("vip")
        at = min(at, self.now - timedelta(minutes=1))
        tagged = set(store.mention_tags(self.db, mention_id))
        for tag in dict.fromkeys(tags):
            if tag not in tagged:  # store.add_tag audits every call; only new tags are history
                store.add_tag(self.db, [mention_id], tag, agent, at=store.utc_text(at))
                self.counts["tags"] += 1

