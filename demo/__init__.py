"""Earshot's demo data: a fortnight of invented mentions, plus the staff history of working them.

Every text, name and handle in demo/data/ was written for Earshot and is fictional; nothing is
copied from real posts, data sets or websites. Timestamps are relative to `now`, so the
demo always looks current, and every id is derived from the seed alone, so loading the
demo again (even days later) refreshes the same mentions instead of adding new ones.

    python -m demo > demo.jsonl     # the records, in Earshot's import format

records.py shapes the fortnight (volumes, times, authors, ids), content.py reads the words
from demo/data/*.toml (one file per kind of content), history.py loads it all into a database.
"""

from __future__ import annotations

from . import content
from .history import META_KEY, load_demo
from .outcomes import add_outcome_stories
from .records import DAYS, SPIKE_DAYS_AGO, Item, addresses, build, demo_records

__all__ = [
    "DAYS", "DEMO_USERS", "add_outcome_stories", "META_KEY", "SPIKE_DAYS_AGO", "SPIKE_TEMPLATES", "TEMPLATES",
    "Item", "addresses", "build", "demo_records", "load_demo",
]  # fmt: skip

# Names read from the data files on first use (nothing is read at import time).
_FROM_CONTENT = {"DEMO_USERS": "users", "TEMPLATES": "templates", "SPIKE_TEMPLATES": "spike_templates"}


def __getattr__(name: str):
    """DEMO_USERS, TEMPLATES and SPIKE_TEMPLATES, from demo/data/ on first use."""
    if name in _FROM_CONTENT:
        return getattr(content.load(), _FROM_CONTENT[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
