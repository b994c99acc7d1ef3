"""The demo's literal content (texts, names, handles, replies), read from demo/data/*.toml on first use."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Content:
    """Everything the demo says and who says it; the generator in records.py decides when and how often."""

    brands: dict  # letter -> {"name": ..., "x": (accounts), "reddit": (accounts)}
    forms: dict  # (letter, platform) -> ((how a post names the brand, weight), ...)
    daily: dict  # letter -> (low, high) base mentions per day
    slots: dict  # slot list name -> values
    people: dict  # name part list name -> values
    news_accounts: tuple  # (handle, name, followers)
    templates: tuple  # (brand, language, kind, category, text)
    spike_templates: tuple  # (language, kind, category, text)
    spike_recovery: tuple
    scripts: tuple  # {"brand", "persona": (platform, handle, name, followers, lang), "posts", "tags"?}
    users: tuple  # (username, role, display name)
    replies: dict  # category -> reply texts
    tag_for: dict  # category -> tag
    always_tagged: frozenset
    reddit_subs: dict  # letter -> subreddits
    post_subs: dict  # category -> subreddit for submissions
    thread_slugs: dict  # letter -> thread slugs


def read(name: str) -> dict:
    """One data file, parsed; found beside this module, so the current directory never matters."""
    text = resources.files(__package__).joinpath("data", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _tuples(value):
    """Lists (at any depth) as tuples, as the generator's random choices and tests expect."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


@cache
def load() -> Content:
    """Read every data file once."""
    brands, reddit, people, staff = read("brands"), read("reddit"), _tuples(read("people")), read("staff")
    templates, outage = read("templates"), _tuples(read("outage"))
    news = people.pop("news_accounts")
    return Content(
        brands={k: {"name": b["name"], **_tuples(b["accounts"])} for k, b in brands.items()},
        forms={(k, net): _tuples(f) for k, b in brands.items() for net, f in b["forms"].items()},
        daily={k: tuple(b["daily"]) for k, b in brands.items()},
        slots=_tuples(read("slots")),
        people=people,
        news_accounts=tuple((a["handle"], a["name"], a["followers"]) for a in news),
        templates=tuple(
            (brand, lang, kind, cat, text)
            for brand, langs in templates.items()
            for lang, kinds in langs.items()
            for kind, entries in kinds.items()
            for cat, text in entries
        ),
        spike_templates=outage["templates"],
        spike_recovery=outage["recovery"],
        scripts=tuple(_script(s) for s in read("scripts")["scripts"]),
        users=tuple((u["username"], u["role"], u["name"]) for u in staff["users"]),
        replies=_tuples(staff["replies"]),
        tag_for=staff["tags"],
        always_tagged=frozenset(staff["always_tagged"]),
        reddit_subs=_tuples(reddit["subs"]),
        post_subs=reddit["post_subs"],
        thread_slugs=_tuples(reddit["thread_slugs"]),
    )


def _script(raw: dict) -> dict:
    """One scripted author: the persona as a tuple, each plan as (status, replied, agent or None)."""
    script = _tuples(raw)
    p = script["persona"]
    script["persona"] = (p["platform"], p["handle"], p["name"], p["followers"], p["lang"])
    for post in script["posts"]:
        if "plan" in post:
            post["plan"] = (*post["plan"], None)[:3]
    return script
