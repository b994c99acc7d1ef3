"""The collector contract: the normalized Mention row, the Collector interface, reply outcomes.

This module imports no network module: the networks are listed in
``collectors/registry.py``, which imports them only when they are needed.

For the console (web/), the stable entry points (from ``collectors.registry``) are:

- ``collectors.replier_for(settings, platform) -> Collector | None``: a collector able
  to post replies on a registered network, or None when that platform's reply
  credentials are not in the environment or are malformed (then offer
  ``composer_url``). It never touches the network and never raises.
- ``Collector.reply(mention, text) -> ReplyResult(external_id, url)``: post ``text``
  as a reply to a stored mention (a row of the ``mentions`` table, as a dict).
  It raises one of these, each with a message fit to show staff:
    * ``ReplyRestricted``: the platform refuses API replies to this post (X's 403
      reply restriction); reply on the platform instead (``composer_url``).
    * ``RateLimited``: try again after ``exc.retry_at`` (an aware UTC datetime).
    * ``CredentialsError``: the keys were rejected (401) or are missing.
    * ``PlatformError``: anything else, in plain words (also: a competitor's
      mention, which Earshot never answers). Earshot does not retry a reply
      itself, so after a timeout or server error the reply may still have been
      posted: check before retrying. (prawcore itself retries Reddit 5xx answers.)
  ``ReplyResult.external_id`` is None only when Reddit created the comment but
  hid it (spam filter); ``url`` is then the thread's.
- ``collectors.composer_url(mention) -> str``: the platform's own page for replying
  by hand (X's reply intent link, or the Reddit permalink).

A mention row is a dict with the keys of ``store.COLLECTED_COLUMNS`` (platform,
external_id, brand, query, text, language, url, author_*, created_at, counts,
in-reply-to/conversation/thread ids, mentions_brand_handle, in_reply_to_brand,
reply_via_api, raw), ready for ``store.upsert_mentions``.

A collector lists its queries (after ``prepare`` has looked up what they need);
each query fails alone. ``fetch_page`` returns one page of normalized rows
plus the markers the cursor engine (``collectors.sweep``) needs to resume.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import clock
import store

if TYPE_CHECKING:
    from settings import Brand, Settings

log = logging.getLogger("earshot.collectors")

T = TypeVar("T")


# --- Outcomes -----------------------------------------------------------------


class CollectorError(Exception):
    """Base of every collector outcome that is not success."""


class PlatformError(CollectorError):
    """The platform refused or failed a request; the message says what happened in plain words."""


class ReplyRestricted(PlatformError):
    """The platform won't take an API reply to this post: reply on the platform instead."""


class CredentialsError(CollectorError):
    """Credentials are missing, malformed or rejected (401)."""


class RateLimited(CollectorError):
    """A rate limit was reached; nothing more can be sent before ``retry_at`` (UTC)."""

    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at


class CursorExpired(PlatformError):
    """The platform no longer accepts a saved cursor (too old for the search window)."""


class SourceDisabled(CollectorError):
    """A source is switched off or lacks credentials; the message is one line saying which."""


class Transient(PlatformError):
    """A server error or timeout that is worth retrying."""


@dataclass(frozen=True)
class ReplyResult:
    """The reply the platform created: its id (None if the platform hid it) and its URL."""

    external_id: str | None
    url: str


# --- Pages and queries --------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One thing a collector polls: a search, a mentions timeline, an inbox."""

    kind: str
    key: str
    brand: Brand | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def brand_key(self) -> str:
        """The brand column of this query's cursor ("*" for queries shared by brands)."""
        return self.brand.name if self.brand else "*"


@dataclass
class Page:
    """One fetched page: normalized rows, the token for the next page, and resume markers.

    ``newest`` is the newest position seen (the next fresh sweep starts above it);
    ``oldest`` is where to resume downward if the sweep stops early; both are
    None when the page held nothing new. ``next`` is None when the sweep is done.
    """

    mentions: list[dict]
    next: str | None = None
    newest: Any = None
    oldest: Any = None


@dataclass
class RateState:
    """What the platform last said about the rate limit."""

    remaining: int | None = None
    reset: datetime | None = None


class Collector(ABC):
    """Fetches mentions for one platform page by page, and replies to them."""

    source: str = ""

    def prepare(self, db) -> list[str]:
        """Look up what some queries need (account ids, cached in the store); return the lookups that failed.

        A failed lookup costs only the queries that need it: each is returned as a
        one-line problem for the run's report, and the other queries still run.
        Raise only for what would stop every query (rejected credentials).
        """
        return []

    @abstractmethod
    def queries(self) -> list[Query]:
        """Everything this collector polls, in order."""

    @abstractmethod
    def fetch_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One page of mentions newer than ``since`` and older than ``until``, from ``token``."""

    @abstractmethod
    def reply(self, mention: dict, text: str) -> ReplyResult:
        """Post ``text`` as a reply to a stored mention."""

    def rate_state(self) -> RateState:
        """The most recent rate-limit figures from the platform."""
        return RateState()


# --- Helpers shared by collectors ---------------------------------------------------


# Times are kept as the store writes them.
iso = store.utc_text


def utc_in(seconds: float) -> datetime:
    """The UTC moment ``seconds`` from now."""
    return clock.now() + timedelta(seconds=seconds)


def with_retries(call: Callable[[], T], attempts: int, backoff: float, what: str) -> T:
    """Run ``call``, retrying ``Transient`` failures up to ``attempts`` times with doubling backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Transient as exc:
            if attempt == attempts:
                raise PlatformError(f"{what}: {exc} (gave up after {attempts} tries)") from exc
            delay = backoff * 2 ** (attempt - 1)
            log.warning("%s: %s; retrying in %.1fs", what, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


_language_seeded = False


def detect_language(text: str) -> str | None:
    """The text's language code by langdetect (seeded, so repeatable), or None if unsure."""
    global _language_seeded
    from langdetect import DetectorFactory, LangDetectException, detect

    if not _language_seeded:
        DetectorFactory.seed = 0  # langdetect is random by default; fix it for stable results
        _language_seeded = True
    if len(text.strip()) < 12:
        return None
    try:
        return detect(text)
    except LangDetectException:
        return None


def words_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def refuse_competitor(settings: Settings, mention: dict) -> None:
    """Raise PlatformError when the mention belongs to a competitor: Earshot never replies for them."""
    for brand in settings.brands:
        if brand.name == mention.get("brand") and brand.competitor:
            raise PlatformError(f"{brand.name} is a competitor; Earshot never replies for it.")


def count(value: Any) -> int:
    """A non-negative count from an API's metrics field (missing or malformed means 0)."""
    return value if isinstance(value, int) and value > 0 else 0


def str_or_none(value: Any) -> str | None:
    """An id as text, or None."""
    return str(value) if value not in (None, "") else None


def is_digits(value: Any) -> bool:
    """Whether an id is plain ASCII digits (the ones that compare as numbers; int() takes nothing else safely)."""
    text = str(value if value is not None else "")
    return text.isascii() and text.isdigit()


def handle_set(brand: Brand, platform: str) -> set[str]:
    """The brand's handles on a platform, lower-cased for comparison."""
    return {h.lower().lstrip("@") for h in brand.handles(platform)}
