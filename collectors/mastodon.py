"""Mastodon collector over Mastodon.py, for one or more servers: mentions, hashtag timelines, search, replies.

Each configured server is read with its own access token (a brand account's).
Positions are the server's own ids (notification ids for mentions, status ids
otherwise), which grow with time: a sweep pages down with ``max_id`` above the
saved ``since_id``. A status is stored under its ActivityPub URI, the same on
every server; the server it was read from and its id there are kept in ``raw``
so the reply goes through that server.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import requests
from mastodon import Mastodon
from mastodon import errors as m_errors

import store
from collectors import http
from collectors.base import (
    Collector,
    CredentialsError,
    Page,
    PlatformError,
    Query,
    RateLimited,
    RateState,
    ReplyResult,
    SourceDisabled,
    Transient,
    count,
    detect_language,
    is_digits,
    refuse_competitor,
    str_or_none,
    utc_in,
    with_retries,
    words_list,
)
from formats import RecordError, parse_time

if TYPE_CHECKING:
    from settings import Brand, MastodonServer, Settings

log = logging.getLogger("earshot.collectors.mastodon")

DEFAULT_LIMIT = 500  # Mastodon's own default, when a server has not reported its limit
DEFAULT_RESET_SECONDS = 5 * 60  # Mastodon's rate-limit window
META_LIMIT = "mastodon.max_characters:"
# A reply is never more public than the post it answers.
REPLY_VISIBILITY = {"public": "public", "unlisted": "unlisted", "private": "private", "direct": "direct"}
STATUS_MEANING = {
    403: "refused it (403): the token lacks a scope, or the account is suspended or blocked",
    404: "could not find it (404): the post was deleted or is not visible to the brand account",
    410: "says it is gone (410): the post or account was deleted",
    422: "refused it (422)",
}


# --- Building ---------------------------------------------------------------------


def _servers(settings: Settings) -> tuple[list[tuple[MastodonServer, str]], list[str]]:
    """The configured servers whose token is in the environment, and the variables that are missing."""
    ready, missing = [], []
    for server in settings.sources.mastodon.servers:
        token = settings.env(server.access_token_env)
        if token:
            ready.append((server, token))
        else:
            missing.append(server.access_token_env)
    return ready, missing


def build(settings: Settings, retries: int = 3, backoff: float = 2.0) -> MastodonCollector:
    """The Mastodon collector; raise SourceDisabled when switched off, without servers, or without any token."""
    src = settings.sources.mastodon
    if not src.enabled:
        raise SourceDisabled("disabled in config ([sources.mastodon] enabled = false)")
    if not src.servers:
        raise SourceDisabled("no server configured ([[sources.mastodon.servers]])")
    ready, missing = _servers(settings)
    if not ready:
        raise SourceDisabled(f"{words_list(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    return MastodonCollector(settings, ready, missing, retries=retries, backoff=backoff)


def build_replier(settings: Settings) -> MastodonCollector | None:
    """A Mastodon collector able to reply, or None when no server's token is set."""
    ready, missing = _servers(settings)
    return MastodonCollector(settings, ready, missing) if ready else None


def reply_limit(db, mention: dict) -> int | None:
    """What is left for staff of the limit the mention's server reported (registry hook); None if never reported.

    The reply starts with the author's @mention (added when the text lacks it), which
    Mastodon counts as @username.
    """
    raw = _stored(mention.get("raw"))
    value = store.get_meta(db, META_LIMIT + raw["server"]) if raw.get("server") else None
    if not value or not value.isdigit():
        return None
    username = ((raw.get("status") or {}).get("account") or {}).get("username")
    return int(value) - (len(f"@{username} ") if username else 0)


# --- Normalizing --------------------------------------------------------------------


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def plain_text(markup: str) -> str:
    """A status's HTML content as plain text (paragraphs and <br> as line breaks)."""
    text = _BREAK.sub("\n", markup or "")
    text = _PARAGRAPH.sub("\n\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()


def full_handle(account: dict, server: str) -> str:
    """An account as user@server (a local account's acct has no server part)."""
    acct = str(account.get("acct") or account.get("username") or "")
    return acct if "@" in acct else f"{acct}@{server}"


def to_mention(status: dict, brand: Brand, query: str, server: str, brand_account: dict | None,
               via_mentions: bool = False) -> dict:  # fmt: skip
    """A store-ready mention row from one Mastodon status entity read on ``server``."""
    account = status.get("account") or {}
    author = full_handle(account, server)
    handles = {h.lower() for h in brand.mastodon.handles}
    tagged = {full_handle(m, server).lower() for m in status.get("mentions") or []}
    brand_id = str((brand_account or {}).get("id") or "")
    text = plain_text(status.get("content") or "")
    if status.get("spoiler_text"):
        text = f"{status['spoiler_text']}\n\n{text}"
    return {
        "platform": "mastodon",
        "external_id": str(status.get("uri") or status["url"]),
        "brand": brand.name,
        "query": query,
        "text": text,
        "language": status.get("language") or detect_language(text),
        "url": status.get("url") or status.get("uri"),
        "author_id": str(account.get("uri") or account.get("url") or author),
        "author_handle": author,
        "author_name": account.get("display_name") or account.get("username"),
        "author_reach": count(account.get("followers_count")),
        "created_at": _created_at(status),
        "like_count": count(status.get("favourites_count")),
        "repost_count": count(status.get("reblogs_count")),
        "reply_count": count(status.get("replies_count")),
        "in_reply_to_id": str_or_none(status.get("in_reply_to_id")),
        "conversation_id": None,
        "thread_id": None,
        "mentions_brand_handle": via_mentions or bool(tagged & handles),
        "in_reply_to_brand": bool(brand_id) and str(status.get("in_reply_to_account_id") or "") == brand_id,
        "reply_via_api": not brand.competitor,
        "raw": raw_json({"server": server, "status": status}),
    }


def raw_json(value: Any) -> str:
    """Mastodon.py's parsed entity as the stored JSON text (its datetimes as ISO text), serialized once."""
    return json.dumps(value, default=_iso_default, ensure_ascii=False)


def jsonable(value: Any) -> Any:
    """Mastodon.py's parsed entity as plain JSON values (its datetimes as ISO text)."""
    return json.loads(json.dumps(value, default=_iso_default))


def _iso_default(value: Any) -> str:
    """JSON for the values Mastodon.py parses: datetimes and dates."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _created_at(status: dict) -> str:
    """The status's creation time; the collection time if it is missing or garbled."""
    value = status.get("created_at")
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    try:
        return parse_time(value)
    except RecordError:
        log.warning(
            "Mastodon status %s has no usable created_at; using the collection time", status.get("id")
        )
        return store.utcnow()


def _stored(value: Any) -> dict:
    """A stored raw column as a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


# --- The collector ---------------------------------------------------------------------


class _Rates(http.RateTracker):
    """A requests response hook that keeps Mastodon's X-RateLimit-* headers (reset as an ISO time)."""

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        """Read X-RateLimit-Remaining and X-RateLimit-Reset when present."""
        headers = response.headers
        if "x-ratelimit-remaining" not in headers:
            return
        try:
            self.state.remaining = int(headers["x-ratelimit-remaining"])
            reset = headers.get("x-ratelimit-reset")
            self.state.reset = (
                datetime.fromisoformat(reset.replace("Z", "+00:00")).astimezone(UTC) if reset else None
            )
        except ValueError:
            log.debug("unreadable rate-limit headers from %s", response.url)


class _Server:
    """One server: its settings, its Mastodon.py client, its rate state and the brand account behind the token."""

    def __init__(self, conf: MastodonServer, token: str):
        self.conf = conf
        self.name = conf.name
        self.tracker = _Rates("mastodon")
        session = requests.Session()
        session.hooks["response"].append(self.tracker)
        self.client = Mastodon(access_token=token, api_base_url=conf.api_base or f"https://{conf.name}",
                               ratelimit_method="throw", request_timeout=http.DEFAULT_TIMEOUT, session=session)  # fmt: skip
        self.account: dict | None = None


class MastodonCollector(Collector):
    """The brand accounts' mentions, hashtag timelines and (where allowed) search, on each server."""

    source = "mastodon"

    def __init__(
        self, settings: Settings, ready: list, missing: list[str], retries: int = 3, backoff: float = 2.0
    ):
        self.settings = settings
        self.servers = {conf.name: _Server(conf, token) for conf, token in ready}
        self.missing = missing
        self.retries = retries
        self.backoff = backoff

    # Reading

    def prepare(self, db) -> list[str]:
        """Find whose token each server holds and the server's character limit; return what failed.

        A server whose token is missing or refused costs only its own queries.
        """
        problems = [f"{name} is not set; that server is not read" for name in self.missing]
        for server in list(self.servers.values()):
            try:
                server.account = jsonable(
                    self._call(server, "verify_credentials", server.client.account_verify_credentials)
                )
                limit = self._character_limit(server)
            except (CredentialsError, PlatformError) as exc:
                problems.append(f"{server.name}: {exc}; that server is not read")
                del self.servers[server.name]
                continue
            store.set_meta(db, META_LIMIT + server.name, str(limit))
        return problems

    def _character_limit(self, server: _Server) -> int:
        """The status length limit the server reports (configuration.statuses.max_characters)."""
        info = self._call(server, "instance", server.client.instance_v2)
        statuses = ((info or {}).get("configuration") or {}).get("statuses") or {}
        value = statuses.get("max_characters")
        return value if isinstance(value, int) and value > 0 else DEFAULT_LIMIT

    def own_brand(self, server: _Server) -> Brand | None:
        """The brand whose Mastodon handles include the account behind the server's token."""
        handle = full_handle(server.account or {}, server.name).lower()
        for brand in self.settings.brands:
            if handle in {h.lower() for h in brand.mastodon.handles}:
                return brand
        return None

    def queries(self) -> list[Query]:
        """Per server: the brand account's mentions, each brand's hashtags, and its terms where search is on."""
        found = []
        for server in self.servers.values():
            brand = self.own_brand(server)
            if brand is not None:
                found.append(Query("mentions", f"{server.name}:mentions", brand, {"server": server.name}))
            for brand in self.settings.brands:
                for tag in brand.mastodon.hashtags:
                    found.append(
                        Query("hashtag", f"{server.name}:#{tag}", brand, {"server": server.name, "tag": tag})
                    )
                for term in brand.mastodon.terms if server.conf.search else ():
                    found.append(
                        Query(
                            "search",
                            f"{server.name}:search:{term}",
                            brand,
                            {"server": server.name, "q": term},
                        )
                    )
        return found

    def fetch_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One page newest first, below ``token`` (or the gap's upper edge) and above ``since``."""
        server = self.servers[query.params["server"]]
        size = self.settings.sources.mastodon.page_size
        window = {"since_id": since, "max_id": token or until, "limit": size}
        client = server.client
        if query.kind == "mentions":
            items = self._call(
                server, "notifications", lambda: client.notifications(types=["mention"], **window)
            )
            pairs = [(n.get("id"), n.get("status")) for n in items if n.get("type") == "mention"]
        elif query.kind == "hashtag":
            items = self._call(
                server, "hashtag", lambda: client.timeline_hashtag(query.params["tag"], **window)
            )
            pairs = [(s.get("id"), s) for s in items]
        else:
            found = self._call(
                server,
                "search",
                lambda: client.search_v2(
                    query.params["q"],
                    resolve=False,
                    result_type="statuses",
                    min_id=since,
                    max_id=token or until,
                    limit=size,
                ),
            )
            items = (found or {}).get("statuses") or []
            pairs = [(s.get("id"), s) for s in items]
        return self._page(pairs, len(items), size, query, since)

    def _page(self, pairs: list, received: int, size: int, query: Query, since: Any) -> Page:
        """Normalize (position, status) pairs into a Page; a short page ends the sweep."""
        floor = int(since) if is_digits(since) else None
        ids = [int(p) for p, _ in pairs if is_digits(p)]
        rows = []
        for spot, status in pairs:
            if not is_digits(spot) or (floor is not None and int(spot) <= floor):
                continue
            row = self._normalize(status, query)
            if row:
                rows.append(row)
        if not ids:
            return Page([])
        more = received >= size
        return Page(rows, next=str(min(ids)) if more else None, newest=str(max(ids)), oldest=str(min(ids)))

    def _normalize(self, status: Any, query: Query) -> dict | None:
        """One status as a mention row; None (logged) when malformed, a boost, or the brand's own."""
        server = self.servers[query.params["server"]]
        if not isinstance(status, dict) or not (status.get("uri") or status.get("url")):
            log.warning("Mastodon %s: skipped an item without a usable status: %.200r", query.key, status)
            return None
        if status.get("reblog"):
            return None  # a boost repeats someone else's post; the original is found on its own
        if server.account and str((status.get("account") or {}).get("id")) == str(server.account.get("id")):
            return None  # the brand's own post is not a mention
        try:
            return to_mention(
                status, query.brand, query.key, server.name, server.account, query.kind == "mentions"
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            log.warning("Mastodon %s: skipped status %s with malformed fields", query.key, status.get("id"))
            return None

    def rate_state(self) -> RateState:
        """The most constrained server's latest X-RateLimit figures."""
        states = [s.tracker.state for s in self.servers.values() if s.tracker.state.remaining is not None]
        return min(states, key=lambda st: st.remaining) if states else RateState()

    # Replying

    def reply(self, mention: dict, text: str) -> ReplyResult:
        """Reply through the server the mention was read on, in reply to its id there, never more public than it."""
        refuse_competitor(self.settings, mention)
        raw = _stored(mention.get("raw"))
        status = raw.get("status") or {}
        server = self.servers.get(raw.get("server"))
        if server is None or not status.get("id"):
            raise PlatformError(
                f"no access token is set for the server this mention was read on ({raw.get('server')})"
            )
        visibility = REPLY_VISIBILITY.get(status.get("visibility"), "direct")
        author = str((status.get("account") or {}).get("acct") or "")
        body = text if not author or f"@{author}".lower() in text.lower() else f"@{author} {text}"
        key = hashlib.sha256(f"{mention.get('external_id')}\x1f{text}".encode()).hexdigest()[:32]
        posted = self._send(server, "reply", lambda: server.client.status_post(
            body, in_reply_to_id=status["id"], visibility=visibility, idempotency_key=key))  # fmt: skip
        return ReplyResult(
            external_id=str(posted.get("uri") or posted.get("id")), url=posted.get("url") or ""
        )

    # Calls and errors

    def _call(self, server: _Server, endpoint: str, call):
        """A read call on one server with bounded retries for server errors, timeouts and malformed answers."""
        result = with_retries(lambda: self._send(server, endpoint, call), self.retries, self.backoff,
                              f"Mastodon {server.name} {endpoint}")  # fmt: skip
        if server.tracker.exhausted():
            reset = server.tracker.state.reset
            raise RateLimited(f"Mastodon {server.name} rate limit used up until {reset:%H:%M:%S} UTC", reset)
        return result

    def _send(self, server: _Server, doing: str, call):
        """Make one call, turning Mastodon.py errors into named outcomes."""
        try:
            return call()
        except m_errors.MastodonError as exc:
            raise _translate(exc, server, doing, self.settings) from exc


def _translate(exc: Exception, server: _Server, doing: str, settings: Settings) -> Exception:
    """The named outcome of a Mastodon.py error on a server while ``doing`` something."""
    status, detail, where = _status(exc), _detail(exc), f"Mastodon {server.name}"
    if isinstance(exc, m_errors.MastodonRatelimitError) or status == 429:
        state = server.tracker.state
        retry_at = state.reset if state.reset and state.remaining == 0 else utc_in(DEFAULT_RESET_SECONDS)
        return RateLimited(
            f"{where} rate limit reached ({doing}); retry after {retry_at:%H:%M:%S} UTC", retry_at
        )
    if isinstance(exc, m_errors.MastodonUnauthorizedError) or status == 401:
        return CredentialsError(
            f"{where} rejected the access token (401): check {server.conf.access_token_env}"
        )
    maybe_posted = "the reply may or may not have been posted, so check the thread before trying again"
    if isinstance(exc, m_errors.MastodonServerError | m_errors.MastodonNetworkError):
        what = f"server error ({status})" if status else "network error"
        return (
            PlatformError(f"{where} {what}; {maybe_posted}")
            if doing == "reply"
            else Transient(f"{where} {what}")
        )
    if status in STATUS_MEANING:
        return PlatformError(f"{where} {STATUS_MEANING[status]}{': ' + detail if detail else ''}")
    if "Could not parse response as JSON" in str(exc):
        if doing == "reply":
            return PlatformError(f"{where} sent an unreadable answer; {maybe_posted}")
        return Transient(f"{where} sent a response that is not JSON")
    return PlatformError(f"{where} {doing} request failed ({status or type(exc).__name__}): {detail}")


def _status(exc: Exception) -> int | None:
    """The HTTP status Mastodon.py put in an API error's arguments."""
    args = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _detail(exc: Exception) -> str:
    """The server's own error text (Mastodon's "error" field), in one line."""
    args = getattr(exc, "args", ())
    text = str(args[3]) if len(args) > 3 and args[3] else ""
    return " ".join(text.split())[:300]
