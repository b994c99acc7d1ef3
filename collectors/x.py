"""X collector over tweepy.Client: recent search and mentions timelines per brand, and replies."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
import tweepy

import store
from collectors import followups, http
from collectors.base import (
    Collector,
    CredentialsError,
    CursorExpired,
    Page,
    PlatformError,
    Query,
    RateLimited,
    RateState,
    ReplyRestricted,
    ReplyResult,
    SourceDisabled,
    Transient,
    detect_language,
    handle_set,
    refuse_competitor,
    utc_in,
    with_retries,
    words_list,
)
from formats import RecordError, addresses_brand, can_reply_via_api, parse_time

if TYPE_CHECKING:
    from settings import Brand, Settings

log = logging.getLogger("earshot.collectors.x")

ORIGIN = "https://api.twitter.com"
EXPANSIONS = ["author_id"]
TWEET_FIELDS = [
    "created_at", "public_metrics", "conversation_id", "lang", "in_reply_to_user_id",
    "referenced_tweets", "entities", "author_id",
]  # fmt: skip
USER_FIELDS = ["public_metrics", "username", "name", "verified"]
RESTRICTION_MARK = "reply to this conversation is not allowed"
UNDETERMINED = {"und", "zxx", "art"}  # X's codes for "no language"; codes starting "q" are X-specific too
DEFAULT_RESET_SECONDS = 15 * 60  # X's rate-limit window, when a 429 carries no reset header
META_USER_ID = "x.user_id:"
SEARCH_DAYS = 7  # X's recent search reaches back a week
FOLLOWUP_CHUNK = 10  # reply ids per follow-up search: "in_reply_to_tweet_id:<id>" joined by OR stays under 512 characters


# --- Building ---------------------------------------------------------------------


def _keys(settings: Settings) -> dict[str, str | None]:
    """The X credentials from the environment (values never logged)."""
    src = settings.sources.x
    names = {
        "bearer_token": src.bearer_token_env,
        "consumer_key": src.api_key_env,
        "consumer_secret": src.api_secret_env,
        "access_token": src.access_token_env,
        "access_token_secret": src.access_token_secret_env,
    }
    return {arg: settings.env(env) for arg, env in names.items()}


def _reply_key_names(settings: Settings) -> list[str]:
    """Environment variable names of the user-context keys that post replies."""
    src = settings.sources.x
    return [src.api_key_env, src.api_secret_env, src.access_token_env, src.access_token_secret_env]


def build(settings: Settings, retries: int = 3, backoff: float = 2.0) -> XCollector:
    """The X collector; raise SourceDisabled when it is switched off or has no bearer token."""
    src = settings.sources.x
    if not src.enabled:
        raise SourceDisabled("disabled in config ([sources.x] enabled = false)")
    keys = _keys(settings)
    if not keys["bearer_token"]:
        raise SourceDisabled(f"{src.bearer_token_env} is not set")
    return XCollector(settings, keys, retries=retries, backoff=backoff)


def composer_url(mention: dict) -> str:
    """X's reply intent link for a mention (registry hook)."""
    return f"https://x.com/intent/post?in_reply_to={mention['external_id']}"


def build_replier(settings: Settings) -> XCollector | None:
    """An X collector able to reply, or None when any user-context key is missing."""
    keys = _keys(settings)
    if not all(settings.env(name) for name in _reply_key_names(settings)):
        return None
    return XCollector(settings, keys)


class _RedactSecrets(logging.Filter):
    """Blank bearer tokens out of tweepy's debug log (it logs request headers)."""

    pattern = re.compile(r"(Bearer\s+)[^'\"\s,}]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with tokens blanked."""
        if isinstance(record.msg, str) and "Bearer" in record.msg:
            record.msg = self.pattern.sub(r"\1[redacted]", record.msg)
        return True


def _guard_tweepy_log() -> None:
    """Attach the redacting filter to tweepy's client logger once."""
    logger = logging.getLogger("tweepy.client")
    if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
        logger.addFilter(_RedactSecrets())


# --- Normalizing --------------------------------------------------------------------


def to_mention(
    tweet: dict, author: dict | None, brand: Brand, query: str, brand_ids: set[str], via_timeline: bool = False
) -> dict:
    """A store-ready mention row from one X API v2 post and its author (None if not included)."""
    author = author or {}
    metrics = tweet.get("public_metrics") or {}
    tweet_id = str(tweet["id"])
    handle = author.get("username")
    mentions, quotes, replying = addressing(tweet, brand, brand_ids, via_timeline)
    text = tweet.get("text") or ""
    return {
        "platform": "x",
        "external_id": tweet_id,
        "brand": brand.name,
        "query": query,
        "text": text,
        "language": _language(tweet.get("lang"), text),
        "url": f"https://x.com/{handle}/status/{tweet_id}" if handle else f"https://x.com/i/web/status/{tweet_id}",
        "author_id": _str_or_none(tweet.get("author_id") or author.get("id")),
        "author_handle": handle,
        "author_name": author.get("name"),
        "author_reach": _count((author.get("public_metrics") or {}).get("followers_count")),
        "created_at": _created_at(tweet),
        "like_count": _count(metrics.get("like_count")),
        "repost_count": _count(metrics.get("retweet_count")) + _count(metrics.get("quote_count")),
        "reply_count": _count(metrics.get("reply_count")),
        "in_reply_to_id": referenced_id(tweet, "replied_to"),
        "conversation_id": _str_or_none(tweet.get("conversation_id")),
        "thread_id": _str_or_none(tweet.get("conversation_id")),
        "mentions_brand_handle": mentions or quotes,
        "in_reply_to_brand": replying,
        "reply_via_api": can_reply_via_api("x", brand, mentions or quotes or replying),
        "raw": {"post": tweet, "author": author or None},
    }


def addressing(tweet: dict, brand: Brand, brand_ids: set[str], via_timeline: bool) -> tuple[bool, bool, bool]:
    """Whether the post @mentions the brand, quotes the brand, and replies to the brand."""
    handles = handle_set(brand, "x")
    entities = tweet.get("entities")
    if isinstance(entities, dict):
        tagged = entities.get("mentions") or []
        mentions = any(
            str(m.get("username", "")).lower() in handles or str(m.get("id", "")) in brand_ids for m in tagged
        )
    else:
        # No entities: fall back to the text; a mentions timeline lists only posts that tag the account.
        mentions = via_timeline or addresses_brand(tweet.get("text") or "", brand, "x")
    replying = _str_or_none(tweet.get("in_reply_to_user_id")) in brand_ids if brand_ids else False
    return mentions, quotes_brand(tweet, handles), replying


def quotes_brand(tweet: dict, handles: set[str]) -> bool:
    """Whether the post quotes a post by one of the handles (seen in its expanded URLs)."""
    quoted = referenced_id(tweet, "quoted")
    if not quoted or not handles:
        return False
    urls = ((tweet.get("entities") or {}).get("urls")) or []
    for url in urls:
        match = re.search(r"(?:twitter|x)\.com/([A-Za-z0-9_]+)/status/(\d+)", str(url.get("expanded_url", "")))
        if match and match.group(2) == quoted and match.group(1).lower() in handles:
            return True
    return False


def referenced_id(tweet: dict, kind: str) -> str | None:
    """The id of the post this one replies to or quotes (``kind``), if any."""
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == kind and ref.get("id"):
            return str(ref["id"])
    return None


def _language(lang: str | None, text: str) -> str | None:
    """X's language code, or a detected one when X says it could not tell."""
    if lang and lang not in UNDETERMINED and not lang.startswith("q"):
        return lang
    return detect_language(text)


def _created_at(tweet: dict) -> str:
    """The post's creation time; the collection time if X left it out or garbled it."""
    try:
        return parse_time(tweet.get("created_at"))
    except RecordError:
        log.warning("X post %s has no usable created_at; using the collection time", tweet.get("id"))
        return store.utcnow()


def _count(value: Any) -> int:
    """A non-negative integer count from a metrics field (missing means 0)."""
    return value if isinstance(value, int) and value > 0 else 0


def _str_or_none(value: Any) -> str | None:
    """An id as text, or None."""
    return str(value) if value not in (None, "") else None


def _is_id(value: Any) -> bool:
    """Whether a post id is plain ASCII digits (int() accepts nothing else safely)."""
    text = str(value if value is not None else "")
    return text.isascii() and text.isdigit()


# --- The collector ---------------------------------------------------------------------


class XCollector(Collector):
    """Recent search and mentions timelines per brand, through tweepy.Client."""

    source = "x"

    def __init__(self, settings: Settings, keys: dict[str, str | None], retries: int = 3, backoff: float = 2.0):
        _guard_tweepy_log()
        self.settings = settings
        self.retries = retries
        self.backoff = backoff
        self.tracker = http.RateTracker("x")
        self.client = tweepy.Client(**keys, return_type=requests.Response, wait_on_rate_limit=False)
        self.client.session.hooks["response"].append(self.tracker)
        http.mount(self.client.session, ORIGIN, settings.sources.x.api_base)
        self.user_ids: dict[str, str] = {}
        self.exhausted: dict[str, RateLimited] = {}
        self.followup_targets: list[dict] = []

    # Reading

    def prepare(self, db) -> list[str]:
        """Resolve the brands' account ids (cached in the meta table); return the lookups that failed.

        A failed lookup costs only the mentions timelines of its handles: the
        searches need no account id and still run. Rejected credentials stop all.
        """
        handles = {h.lower(): h for brand in self.settings.brands for h in brand.x.handles}
        for lower in handles:
            cached = store.get_meta(db, META_USER_ID + lower)
            if cached:
                self.user_ids[lower] = cached
        missing = [handles[h] for h in handles if h not in self.user_ids]
        problems = []
        for start in range(0, len(missing), 100):
            batch = missing[start : start + 100]
            try:
                self._lookup_users(db, batch)
            except (PlatformError, RateLimited) as exc:
                timelines = words_list([f"@{name}" for name in batch])
                problems.append(f"users lookup: {exc}; the mentions timelines of {timelines} were not read")
        self.followup_targets = followups.recent_targets(db, self.settings, "x", SEARCH_DAYS)
        return problems

    def _lookup_users(self, db, usernames: list[str]) -> None:
        """Look up account ids by username and cache them."""
        body = self._call("users", self.client.get_users, usernames=usernames, user_fields=USER_FIELDS)
        for user in body.get("data") or []:
            if user.get("id") and user.get("username"):
                self.user_ids[user["username"].lower()] = str(user["id"])
                store.set_meta(db, META_USER_ID + user["username"].lower(), str(user["id"]))
        for name in usernames:
            if name.lower() not in self.user_ids:
                log.warning("X account @%s was not found; its mentions timeline is skipped", name)

    def brand_ids(self, brand: Brand) -> set[str]:
        """The account ids of a brand's X handles that are known."""
        return {self.user_ids[h] for h in handle_set(brand, "x") if h in self.user_ids}

    def queries(self) -> list[Query]:
        """A recent search per brand query and a mentions timeline per known brand handle."""
        found = []
        for brand in self.settings.brands:
            if brand.x.query:
                found.append(Query("search", brand.x.query, brand, {"q": brand.x.query}))
            for handle in brand.x.handles:
                if handle.lower() in self.user_ids:
                    found.append(Query("mentions", f"mentions:@{handle}", brand, {"handle": handle}))
        return found + followups.queries(self.settings, self.followup_targets, FOLLOWUP_CHUNK)

    def fetch_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One page of a search or mentions timeline between since_id and until_id."""
        size = self.settings.sources.x.page_size
        common = {
            "since_id": since, "until_id": until, "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
        }  # fmt: skip
        if query.kind == "followups":
            return self._followup_page(query, since, until, token)
        if query.kind == "search":
            params = {**common, "query": query.params["q"], "max_results": min(max(size, 10), 100), "next_token": token}
            body = self._call("search", self.client.search_recent_tweets, **params)
        else:
            user_id = self.user_ids[query.params["handle"].lower()]
            params = {**common, "id": user_id, "max_results": min(max(size, 5), 100), "pagination_token": token}
            body = self._call("mentions", self.client.get_users_mentions, **params)
        return self._page(body, query)

    def _followup_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One page of the posts answering our replies: a recent search by in_reply_to_tweet_id."""
        ids = query.params["ids"]
        q = " OR ".join(f"in_reply_to_tweet_id:{i}" for i in ids)
        low = followups.since_for(since, ids)
        params = {
            "query": q, "since_id": low, "until_id": until, "next_token": token, "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
            "max_results": min(max(self.settings.sources.x.page_size, 10), 100),
        }  # fmt: skip
        page = self._page(self._call("search", self.client.search_recent_tweets, **params), query)
        return followups.with_position(page, ids)

    def _page(self, body: dict, query: Query) -> Page:
        """Normalize one response body into a Page, keeping whatever is usable."""
        tweets = [t for t in body.get("data") or [] if isinstance(t, dict)]
        includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
        users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
        if tweets and not users:
            log.warning("X %s: page has no includes.users; storing %d posts without author details", query.key, len(tweets))
        mentions = [m for m in (self._normalize(t, users, query) for t in tweets) if m]
        ids = [int(t["id"]) for t in tweets if _is_id(t.get("id"))]
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        newest = str(max(ids)) if ids else None
        oldest = str(min(ids)) if ids else None
        return Page(mentions, next=meta.get("next_token") if ids else None, newest=newest, oldest=oldest)

    def _normalize(self, tweet: dict, users: dict, query: Query) -> dict | None:
        """One post as a mention row, or None (logged) when it is unusable or the brand's own."""
        if not _is_id(tweet.get("id")) or not isinstance(tweet.get("text"), str):
            log.warning("X %s: skipped a post without a usable id or text: %.200r", query.key, tweet)
            return None
        ids = self.brand_ids(query.brand)
        if str(tweet.get("author_id")) in ids:
            return None  # the brand's own post is not a mention
        author = users.get(str(tweet.get("author_id")))
        try:
            return to_mention(tweet, author, query.brand, query.key, ids, via_timeline=query.kind == "mentions")
        except (AttributeError, TypeError, ValueError, OverflowError):
            log.warning("X %s: skipped post %s with malformed fields", query.key, tweet.get("id"))
            return None

    def rate_state(self) -> RateState:
        """The latest x-rate-limit figures X sent."""
        return self.tracker.state

    # Replying

    def reply(self, mention: dict, text: str) -> ReplyResult:
        """Post a reply with create_tweet; X allows it only to posts that address the brand."""
        refuse_competitor(self.settings, mention)
        body = self._send(
            "reply",
            lambda: self.client.create_tweet(text=text, in_reply_to_tweet_id=str(mention["external_id"])),
        )
        new_id = (body.get("data") or {}).get("id")
        if not new_id:
            raise PlatformError("X accepted the reply but returned no post id; check the conversation on X")
        return ReplyResult(external_id=str(new_id), url=f"https://x.com/i/web/status/{new_id}")

    # Calls and errors

    def _call(self, endpoint: str, method, **params) -> dict:
        """A read call with bounded retries for server errors and timeouts; returns the JSON body."""
        if endpoint in self.exhausted:
            raise self.exhausted[endpoint]
        params = {k: v for k, v in params.items() if v is not None}
        body = with_retries(lambda: self._send(endpoint, lambda: method(**params)), self.retries, self.backoff, f"X {endpoint}")
        if self.tracker.exhausted():
            reset = self.tracker.state.reset
            self.exhausted[endpoint] = RateLimited(f"X {endpoint} rate limit used up until {reset:%H:%M:%S} UTC", reset)
        return body

    def _send(self, doing: str, request) -> dict:
        """Make one request, turning tweepy and requests errors into named outcomes."""
        try:
            response = request()
        except tweepy.TweepyException as exc:
            raise _translate(exc, doing, self.settings) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            if doing == "reply":
                raise PlatformError(
                    "could not reach X; the reply may or may not have been posted, so check the conversation "
                    "before trying again"
                ) from exc
            raise Transient(f"could not reach X ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            # The request could not even be built or sent (a bad URL or header); its text may hold a key.
            raise PlatformError(f"X {doing} request could not be sent ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise Transient(f"X sent a response that is not JSON (HTTP {response.status_code})") from exc
        return body if isinstance(body, dict) else {}


def _translate(exc: tweepy.TweepyException, doing: str, settings: Settings) -> Exception:
    """The named outcome for a tweepy error while ``doing`` something."""
    detail = _detail(exc)
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time
        retry_at = datetime.fromtimestamp(reset, UTC) if reset else utc_in(DEFAULT_RESET_SECONDS)
        capped = "usage-capped" in _problem_type(exc) or "UsageCap" in detail
        what = "X monthly usage cap reached" if capped else f"X rate limit reached ({doing})"
        return RateLimited(f"{what}; retry after {retry_at:%H:%M:%S} UTC", retry_at)
    if isinstance(exc, tweepy.Unauthorized):
        names = _reply_key_names(settings) if doing == "reply" else [settings.sources.x.bearer_token_env]
        return CredentialsError(f"X rejected the credentials (401): check {', '.join(names)}")
    if isinstance(exc, tweepy.Forbidden):
        if doing == "reply" and RESTRICTION_MARK in detail.lower():
            return ReplyRestricted(
                "X only accepts API replies to posts that mention or quote the brand: reply on X instead"
            )
        return PlatformError(f"X refused the {doing} request (403): {detail}")
    if isinstance(exc, tweepy.TwitterServerError):
        if doing == "reply":
            return PlatformError(
                f"X had a server error ({_status(exc)}); the reply may or may not have been posted, "
                "so check the conversation before trying again"
            )
        return Transient(f"X server error ({_status(exc)})")
    if isinstance(exc, tweepy.BadRequest) and re.search(r"since_id|until_id", detail):
        return CursorExpired(f"X no longer accepts the saved cursor: {detail}")
    return PlatformError(f"X {doing} request failed ({_status(exc)}): {detail}")


def _detail(exc: tweepy.TweepyException) -> str:
    """X's own explanation of an error, in one line."""
    messages = getattr(exc, "api_messages", None) or []
    text = "; ".join(str(m) for m in messages) if messages else str(exc)
    return " ".join(text.split())[:300]


def _problem_type(exc: tweepy.TweepyException) -> str:
    """The 'type' field of an X problem body, if any."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def _status(exc: tweepy.TweepyException) -> str:
    """The HTTP status of a tweepy error, as text."""
    response = getattr(exc, "response", None)
    return str(getattr(response, "status_code", "?"))
