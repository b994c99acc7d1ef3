"""The demo's records: how many mentions, when, by whom, and with which ids; content.py supplies the words."""

from __future__ import annotations

import hashlib
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import clock
import store

from . import content

# How the fortnight is shaped; the words, names and brands are in demo/data/.
DAYS = 14
SPIKE_DAYS_AGO = 3  # the Lumina Mobile outage: 06:00-09:00 UTC, three calendar days ago, then recoveries
# Outage mentions on top of the day's usual traffic. Enough that the busiest hour
# (about 40, against well under one usual at that hour) clears the shipped [alerts]
# thresholds (min_mentions = 20) with room to spare, so the demo raises a real alert;
# and over within the alerts' cooldown, so it raises one alert, not two.
SPIKE_EXTRA = 64
SPIKE_X_SHARE = 0.7  # of the outage posts that could go either way, the share on X
LANG_DECK = ("th", "th", "es", "es") + ("en",) * 21  # 8% Thai, 8% Spanish
X_SHARE = {"en": 0.52, "th": 0.8, "es": 0.8}
HOUR_WEIGHTS = (1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.2, 2.4, 3.2, 3.6, 3.6, 3.5,
                4.0, 3.8, 3.4, 3.4, 3.6, 4.2, 4.6, 5.0, 5.2, 4.6, 3.4, 2.2)  # fmt: skip


@dataclass
class Item:
    """One demo mention record plus what the staff history needs to know about it."""

    record: dict
    brand: str
    cat: str
    lang: str
    spike: bool = False
    plan: tuple | None = None
    tags: tuple = ()
    note: str | None = None
    reply_id: str | None = None  # set when a later post in the script replies to our reply
    reply_text: str | None = None  # a scripted reply ("{agent}" is the agent's name)
    reply_before: datetime | None = None


# --- Records ----------------------------------------------------------------------


def demo_records(now: datetime, seed: int = 7) -> list[dict]:
    """At least 320 mention records in the import format, timed over the 14 days before `now`."""
    return [item.record for item in build(now, seed)]


def build(now: datetime, seed: int = 7) -> list[Item]:
    """Every demo mention with its history hints, oldest first."""
    return _Builder(_utc(now), seed).run()


def _utc(now: datetime | None) -> datetime:
    """`now` as an aware UTC datetime to the second (naive means UTC; None means the current time)."""
    now = now or clock.now()
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.replace(microsecond=0)


def _digest(seed: int, key: str) -> int:
    """A stable large integer for (seed, key)."""
    return int.from_bytes(hashlib.sha256(f"earshot-demo:{seed}:{key}".encode()).digest()[:12], "big")


def _base36(number: int, width: int) -> str:
    """`number` in lowercase base 36, `width` characters."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(width):
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out


def _x_id(seed: int, key: str) -> str:
    """A 19-digit X post id."""
    return str(1_780_000_000_000_000_000 + _digest(seed, key) % 190_000_000_000_000_000)


def _reddit_id(seed: int, key: str, kind: str) -> str:
    """A Reddit fullname: t3_ (submission, starts with 1) or t1_ (comment, starts with l or m)."""
    head = "1" if kind == "t3" else "lm"[_digest(seed, key + "/h") % 2]
    return f"{kind}_{head}{_base36(_digest(seed, key), 6)}"


def _slug(title: str) -> str:
    """A Reddit-style URL slug from a title."""
    words = re.findall(r"[a-z0-9]+", _ascii(title).lower())
    slug = "_".join(words)[:50].rstrip("_")
    return slug or "post"


def _ascii(text: str) -> str:
    """Accents stripped, for handles."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _money(rng: random.Random, low: int, high: int) -> str:
    """A price in pounds, like £34.99."""
    return f"£{rng.randint(low, high)}.{rng.choice(('00', '49', '50', '99', '20', '75'))}"


def _slots(rng: random.Random, s: dict) -> dict:
    """Random values for every template slot, from the value lists `s`."""
    return {
        "city": rng.choice(s["cities"]), "city2": rng.choice(s["north_cities"]), "city_th": rng.choice(s["cities_th"]),
        "ciudad": rng.choice(s["ciudades"]), "time": rng.choice(s["times"]), "time_es": rng.choice(s["times_es"]),
        "spike_time": rng.choice(s["spike_times"]), "clock": f"{rng.randint(8, 19)}:{rng.randint(0, 59):02d}",
        "amount": _money(rng, 12, 65), "amount2": _money(rng, 4, 29), "amount_hi": _money(rng, 70, 160),
        "fee": _money(rng, 18, 120), "small_fee": f"£{rng.randint(1, 3)}.{rng.choice(('45', '99', '20', '49'))}",
        "order": f"PX{rng.randint(10**9, 10**10 - 1)}", "ref": f"CX-{rng.randint(100000, 999999)}",
        "code": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4)) + str(rng.randint(10, 99)),
        "reg": "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXY") for _ in range(3)), "n": rng.randint(3, 9),
        "days": rng.randint(2, 9), "weeks": rng.randint(6, 10), "hours": rng.randint(3, 5), "mins": rng.randint(25, 95),
        "years": rng.randint(3, 12), "months": rng.randint(2, 8), "year": rng.randint(2017, 2023),
        "speed": rng.randint(120, 480), "pct": rng.choice(("4", "5.5", "6", "7.9", "8.8", "9")),
        "street": rng.choice(s["streets"]), "weekday": rng.choice(s["weekdays"]), "weekday_es": rng.choice(s["weekdays_es"]),
        "country": rng.choice(s["countries"]), "country_es": rng.choice(s["countries_es"]), "phone": rng.choice(s["phones"]),
        "plan": rng.choice(s["plans"]), "item": rng.choice(s["items"]), "item_th": rng.choice(s["items_th"]),
        "item_es": rng.choice(s["items_es"]),
    }  # fmt: skip


def _weighted(rng: random.Random, options: tuple) -> str:
    """Pick the first element of one (value, weight) pair."""
    return rng.choices([o[0] for o in options], weights=[o[1] for o in options])[0]


def addresses(text: str, brand: str, platform: str) -> bool:
    """Whether the text @mentions (X) or u/-mentions (Reddit) the brand's own account."""
    handles = content.load().brands[brand][platform]
    if not handles:
        return False
    prefix = r"(?:/?u/)" if platform == "reddit" else "@"
    pattern = prefix + r"(?:" + "|".join(re.escape(h) for h in handles) + r")\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


class _Builder:
    """Builds the demo mentions; content and ids depend on the seed only, times on `now` too."""

    def __init__(self, now: datetime, seed: int):
        """Start with empty output and seeded random streams."""
        self.now, self.seed = now, seed
        self.c = content.load()
        self.rng = random.Random(seed)  # content
        self.trng = random.Random(seed * 7919 + 17)  # times: draws never depend on `now`
        self.items: list[Item] = []
        self.seen: set[str] = set()
        self.count = 0
        self.decks: dict[tuple, list] = {}
        self.langs: list[str] = []
        self.by_key: dict[tuple, list] = {}
        for brand, lang, kind, cat, text in self.c.templates:
            self.by_key.setdefault((brand, lang, kind), []).append((cat, text))
        self.today = datetime(now.year, now.month, now.day, tzinfo=UTC)
        self.pools = {key: self._pool(*key) for key in (("x", "en"), ("reddit", "en"), ("x", "th"),
                                                        ("reddit", "th"), ("x", "es"), ("reddit", "es"))}  # fmt: skip

    def run(self) -> list[Item]:
        """Base traffic for 14 days, the outage spike, then the scripted posts."""
        for days_ago in range(DAYS - 1, -1, -1):
            for brand, (low, high) in self.c.daily.items():
                for _ in range(self.rng.randint(low, high)):
                    self._base(brand, days_ago)
        self._spike()
        for script in self.c.scripts:
            self._script(script)
        self.items.sort(key=lambda item: (item.record["created_at"], item.record["id"]))
        return self.items

    # Times

    def _base_time(self, days_ago: int) -> datetime:
        """A time on that calendar day, busier in the evening; a time still to come is moved DAYS days back."""
        u_hour, u_minute = self.trng.random(), self.trng.random()
        hour = self._hour(u_hour)
        moment = self.today - timedelta(days=days_ago) + timedelta(hours=hour, seconds=int(u_minute * 3599))
        if moment > self.now - timedelta(minutes=2):
            # Today's hours still to come happen on the fortnight's first day instead, at the
            # same time of day, so the last DAYS x 24 hours keep every hour's usual share
            # (squeezing them in before now would fake a spike just after midnight).
            moment = max(moment - timedelta(days=DAYS), self.now - timedelta(days=DAYS))
        return moment.replace(microsecond=0)

    @staticmethod
    def _hour(u: float) -> int:
        """An hour of the day drawn by HOUR_WEIGHTS from a uniform number."""
        target, total = u * sum(HOUR_WEIGHTS), 0.0
        for hour, weight in enumerate(HOUR_WEIGHTS):
            total += weight
            if target < total:
                return hour
        return 23

    def _when(self, spec: str) -> datetime:
        """A scripted time: 'dN HH:MM', 'outage HH:MM' (on the outage day) or 'mN' (minutes ago)."""
        if spec.startswith("m"):
            return self.now - timedelta(minutes=int(spec[1:]))
        day, clock = spec.split()
        day = SPIKE_DAYS_AGO if day == "outage" else day[1:]
        hours, minutes = (int(p) for p in clock.split(":"))
        moment = self.today - timedelta(days=int(day)) + timedelta(hours=hours, minutes=minutes)
        return min(moment, self.now - timedelta(minutes=5))

    # People

    def _pool(self, platform: str, lang: str) -> list[tuple]:
        """Invented authors: (handle, display name, author id, followers)."""
        size = {"en": 260, "th": 30, "es": 30}[lang]
        return [self._persona(platform, lang, i) for i in range(size)]

    def _persona(self, platform: str, lang: str, index: int) -> tuple:
        """One invented author for a platform and language."""
        rng, names = self.rng, self.c.people
        if lang == "th":
            latin, thai = rng.choice(names["th_names"])
            first, display = latin, rng.choice((thai, latin, f"{thai} ✨"))
        elif lang == "es":
            first, last = rng.choice(names["es_first"]), rng.choice(names["es_last"])
            display = rng.choice((f"{first} {last}", first, f"{first} {last[0]}."))
            first = _ascii(first) + _ascii(last)[:3]
        else:
            first, last = rng.choice(names["en_first"]), rng.choice(names["en_last"])
            display = rng.choice((f"{first} {last}", first, f"{first} {last[0]}", f"{first} {last} 🌻"))
        if platform == "reddit":
            handle = rng.choice((
                f"{rng.choice(names['reddit_adj'])}_{rng.choice(names['reddit_noun'])}_{rng.randint(1000, 9999)}",
                f"{first.lower()}_{rng.choice(names['handle_words']).lower()}{rng.randint(10, 99)}",
                f"throwaway{rng.randint(1000, 99999)}",
            ))
            author_id = f"t2_{_base36(_digest(self.seed, f'author/{platform}/{lang}/{index}'), 8)}"
            followers = min(int(math.exp(rng.gauss(2.0, 1.4))), 3000)
            return handle, handle, author_id, followers
        base = _ascii(first) if lang != "en" else first + rng.choice((last, "_" + last, last[0], ""))
        handle = rng.choice((
            f"{base}{rng.randint(1, 99)}", f"{base}_{rng.choice(names['handle_words'])}", base.lower(),
            f"{base.lower()}{rng.randint(1980, 2005)}",
        ))[:15]
        author_id = str(10**7 + _digest(self.seed, f"author/{platform}/{lang}/{index}") % (10**18))
        followers = max(2, min(int(math.exp(rng.gauss(5.6, 1.5))), 45_000))
        return handle, display, author_id, followers

    # Content

    def _draw_lang(self) -> str:
        """The next language from a shuffled deck, so the shares hold exactly."""
        if not self.langs:
            self.langs = list(LANG_DECK)
            self.rng.shuffle(self.langs)
        return self.langs.pop()

    def _draw(self, key: tuple) -> tuple[str, str]:
        """The next (category, template) from a shuffled deck, so templates rotate evenly."""
        deck = self.decks.get(key)
        if not deck:
            deck = list(self.by_key[key])
            self.rng.shuffle(deck)
            self.decks[key] = deck
        return deck.pop()

    def _fill(self, template: str, brand: str, platform: str, extra: dict | None = None) -> str:
        """Fill a template's slots (`extra` maps a slot to its own choices), redrawing until the text is new."""
        text = ""
        for _ in range(40):
            slots = _slots(self.rng, self.c.slots) | {"brand": _weighted(self.rng, self.c.forms[(brand, platform)])}
            slots |= {name: self.rng.choice(choices) for name, choices in (extra or {}).items()}
            text = template.format_map(slots)
            if text not in self.seen:
                break
        self.seen.add(text)
        return text

    def _base(self, brand: str, days_ago: int) -> None:
        """One ordinary mention on that day."""
        rng = self.rng
        lang = self._draw_lang()
        platform = "x" if rng.random() < X_SHARE[lang] else "reddit"
        kind = "any"
        if platform == "x" and lang == "en" and rng.random() < (0.1 if brand == "V" else 0.18):
            kind = "x"
        elif platform == "reddit" and lang == "en" and rng.random() < 0.35:
            kind = "post"
        cat, template = self._draw((brand, lang, kind))
        text = self._fill(template, brand, platform)
        if platform == "x" and self.c.brands[brand]["x"][1:] and cat not in ("news", "spam") and rng.random() < 0.28:
            if not addresses(text, brand, "x"):
                text = f"@{self.c.brands[brand]['x'][-1]} {text}"
        if platform == "reddit" and kind == "post" and self.c.brands[brand]["reddit"] and rng.random() < 0.12:
            text += f"\n\nTagging u/{self.c.brands[brand]['reddit'][0]} in case anyone there reads this."
        persona = self._author(platform, lang, cat)
        self._add(brand, platform, lang, cat, text, persona, self._base_time(days_ago), kind)

    def _author(self, platform: str, lang: str, cat: str) -> tuple:
        """A persona for an ordinary mention (news accounts for news, spam accounts for spam)."""
        if cat == "news" and platform == "x":
            handle, name, followers = self.rng.choice(self.c.news_accounts)
            return handle, name, str(10**8 + _digest(self.seed, "news/" + handle) % 10**12), followers
        if cat == "spam" and platform == "x":
            handle = self.rng.choice(self.c.people["spam_handles"])
            name = handle.replace("_", " ").title()
            return handle, name, str(10**17 + _digest(self.seed, "spam/" + handle) % 10**18), self.rng.randint(3, 900)
        return self.rng.choice(self.pools[(platform, lang)])

    def _spike(self) -> None:
        """The Lumina Mobile outage: SPIKE_EXTRA mentions from 06:00, busiest in the first hour, over by
        09:00, then recoveries."""
        start = self.today - timedelta(days=SPIKE_DAYS_AGO) + timedelta(hours=6)
        templates = list(self.c.spike_templates)
        for i in range(SPIKE_EXTRA):
            if i % len(templates) == 0:
                self.rng.shuffle(templates)
            lang, kind, cat, template = templates[i % len(templates)]
            platform = "reddit" if kind == "post" else ("x" if kind == "x" or self.rng.random() < SPIKE_X_SHARE else "reddit")
            text = self._fill(template, "L", platform, {"city": self.c.slots["north_cities"]})
            if platform == "x" and not addresses(text, "L", "x") and self.rng.random() < 0.4:
                text = f"@LuminaHelp {text}"
            moment = start + timedelta(minutes=int(4 + 170 * self.trng.random() ** 2), seconds=self.trng.randint(0, 59))
            persona = self.rng.choice(self.pools[(platform, lang)])
            self._add("L", platform, lang, cat, text, persona, moment, kind, spike=True)
        for i, template in enumerate(self.c.spike_recovery):
            text = self._fill(template, "L", "x", {"city": self.c.slots["north_cities"]})
            moment = start + timedelta(hours=3, minutes=20 + 25 * i + self.trng.randint(0, 20))
            self._add("L", "x", "en", "outage", text, self.rng.choice(self.pools[("x", "en")]), moment, "x", spike=True)

    def _script(self, script: dict) -> None:
        """One scripted author's posts, in order, threading replies to our replies."""
        platform, handle, name, followers, lang = script["persona"]
        if platform == "reddit":
            author_id = f"t2_{_base36(_digest(self.seed, 'author/' + handle), 8)}"
        else:
            author_id = str(10**8 + _digest(self.seed, "author/" + handle) % 10**18)
        persona = (handle, name, author_id, followers)
        previous: Item | None = None
        for post in script["posts"]:
            moment = self._when(post["when"])
            parent = previous if post.get("thread") else None
            kind = "comment" if parent and platform == "reddit" else ("post" if platform == "reddit" else "x")
            item = self._add(script["brand"], platform, post.get("lang", lang), post["cat"], post["text"], persona,
                             moment, kind, spike=post.get("spike", False), parent=parent, sub=post.get("sub"))
            item.plan = post.get("plan")
            item.tags = tuple(script.get("tags", ())) + tuple(post.get("tags", ()))
            item.note = post.get("note")
            item.reply_text = post.get("reply")
            self.seen.add(post["text"])
            previous = item

    # Records

    def _add(self, brand: str, platform: str, lang: str, cat: str, text: str, persona: tuple, moment: datetime,
             kind: str, spike: bool = False, parent: Item | None = None, sub: str | None = None) -> Item:
        """Make one import record and remember it."""
        self.count += 1
        key = f"mention/{self.count}"
        handle, name, author_id, followers = persona
        record = {"platform": platform, "brand": self.c.brands[brand]["name"], "text": text, "language": lang}
        if platform == "x":
            record.update(self._x_fields(key, handle, parent))
        else:
            record.update(self._reddit_fields(key, brand, cat, text, kind, parent, sub))
        likes, reposts, replies = self._engagement(platform, followers, cat, kind, spike)
        record.update({
            "author": handle, "author_id": author_id, "author_name": name, "author_followers": followers,
            "like_count": likes, "repost_count": reposts, "reply_count": replies, "created_at": store.utc_text(moment),
            "mentions_brand_handle": addresses(text, brand, platform), "in_reply_to_brand": parent is not None,
        })  # fmt: skip
        item = Item(record=record, brand=brand, cat=cat, lang=lang, spike=spike)
        if parent is not None:
            parent.reply_id = record["in_reply_to_id"]
            parent.reply_before = moment
        self.items.append(item)
        return item

    def _x_fields(self, key: str, handle: str, parent: Item | None) -> dict:
        """Id, url and thread fields of an X post (a reply to our reply when `parent` is given)."""
        post_id = _x_id(self.seed, key)
        fields = {"id": post_id, "url": f"https://x.com/{handle}/status/{post_id}"}
        if parent is None:
            return fields | {"in_reply_to_id": None, "conversation_id": post_id, "thread_id": post_id}
        root = parent.record["conversation_id"]
        ours = _x_id(self.seed, key + "/our-reply")
        return fields | {"in_reply_to_id": ours, "conversation_id": root, "thread_id": root}

    def _reddit_fields(self, key: str, brand: str, cat: str, text: str, kind: str, parent: Item | None,
                       sub: str | None) -> dict:  # fmt: skip
        """Id, url and thread fields of a Reddit submission or comment."""
        if kind == "post":
            post_id = _reddit_id(self.seed, key, "t3")
            city = next((c for c in self.c.slots["cities"] if c in text.split("\n\n")[0]), None)
            sub = sub or self.c.post_subs.get(cat) or (city.replace(" ", "") if cat == "outage" and city else None)
            sub = sub or self.rng.choice(self.c.reddit_subs[brand])
            url = f"https://www.reddit.com/r/{sub}/comments/{post_id[3:]}/{_slug(text.split(chr(10))[0])}/"
            return {"id": post_id, "url": url, "in_reply_to_id": None, "conversation_id": post_id, "thread_id": post_id}
        comment_id = _reddit_id(self.seed, key, "t1")
        if parent is not None:
            submission = parent.record["conversation_id"]
            base = _reddit_base(parent.record)
            ours = _reddit_id(self.seed, key + "/our-reply", "t1")
            return {"id": comment_id, "url": f"{base}{comment_id[3:]}/", "in_reply_to_id": ours,
                    "conversation_id": submission, "thread_id": submission}  # fmt: skip
        submission = _reddit_id(self.seed, key + "/thread", "t3")
        sub = sub or self.rng.choice(self.c.reddit_subs[brand])
        url = f"https://www.reddit.com/r/{sub}/comments/{submission[3:]}/{self.rng.choice(self.c.thread_slugs[brand])}/{comment_id[3:]}/"
        return {"id": comment_id, "url": url, "in_reply_to_id": submission, "conversation_id": submission,
                "thread_id": submission}  # fmt: skip

    def _engagement(self, platform: str, followers: int, cat: str, kind: str, spike: bool) -> tuple[int, int, int]:
        """Plausible likes, reposts and replies for a post."""
        rng = self.rng
        if cat == "spam":
            return rng.randint(0, 3), rng.randint(0, 2), 0
        if platform == "reddit":
            score = int(math.exp(rng.gauss(2.6 if kind == "post" else 1.3, 1.0)))
            comments = int(score * rng.uniform(0.2, 0.8)) if kind == "post" else rng.randint(0, 4)
            return max(score, 1), 0, comments
        rate = rng.uniform(0.002, 0.02) * (2.5 if spike or cat == "sarcasm" else 1)
        likes = int(followers * rate) + rng.randint(0, 4)
        return likes, int(likes * rng.uniform(0.05, 0.35)), rng.randint(0, 3) + int(likes * rng.uniform(0.02, 0.15))



def _reddit_base(record: dict) -> str:
    """The permalink of the submission a Reddit record belongs to (ends with '/')."""
    url = record["url"]
    return url if record["id"].startswith("t3_") else url.rstrip("/").rsplit("/", 1)[0] + "/"

