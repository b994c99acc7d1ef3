"""Reddit collector over praw: new posts and comments naming each brand, inbox mentions, and replies.

Reddit's API searches posts but not comments. Comments are found by reading the
newest comments of each brand's configured subreddits (when they are not just
``all``, whose firehose is too fast to follow) and by the inbox's username mentions.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import praw
import prawcore
from praw.exceptions import RedditAPIException

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
    detect_language,
    handle_set,
    refuse_competitor,
    utc_in,
    words_list,
)
from formats import RecordError, addresses_brand, can_reply_via_api, parse_time

if TYPE_CHECKING:
    from settings import Brand, Settings

log = logging.getLogger("earshot.collectors.reddit")

WEB = "https://www.reddit.com"
USER_AGENT = re.compile(r"^[\w.\-]+:[\w.\-]+:v?[\w.\-]+ \(by /?u/[\w\-]+\)$")
USER_AGENT_HELP = "'<platform>:<app id>:<version> (by /u/<reddit username>)', e.g. 'linux:earshot:1.0 (by /u/yourname)'"
RATELIMIT_TEXT = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)s?", re.IGNORECASE)
DEFAULT_RESET_SECONDS = 60
TIMEOUT = 30


# --- Building ---------------------------------------------------------------------


def _env(settings: Settings) -> dict[str, str | None]:
    """The Reddit credentials from the environment, by praw argument name (values never logged)."""
    src = settings.sources.reddit
    names = {
        "client_id": src.client_id_env, "client_secret": src.client_secret_env,
        "user_agent": src.user_agent_env, "username": src.username_env,
        "password": src.password_env, "refresh_token": src.refresh_token_env,
    }  # fmt: skip
    return {arg: settings.env(env) for arg, env in names.items()}


def has_user_credentials(creds: dict[str, str | None]) -> bool:
    """Whether a username and password, or a refresh token, are given."""
    return bool(creds["refresh_token"] or (creds["username"] and creds["password"]))


def check_user_agent(value: str, env_name: str = "REDDIT_USER_AGENT") -> None:
    """Raise CredentialsError unless the User-Agent has the shape Reddit's API rules ask for."""
    if not USER_AGENT.match(value.strip()):
        raise CredentialsError(f"{env_name} must look like {USER_AGENT_HELP}")


def build(settings: Settings) -> RedditCollector:
    """The Reddit collector; raise SourceDisabled when switched off or app credentials are missing."""
    src = settings.sources.reddit
    if not src.enabled:
        raise SourceDisabled("disabled in config ([sources.reddit] enabled = false)")
    creds = _env(settings)
    required = {"client_id": src.client_id_env, "client_secret": src.client_secret_env, "user_agent": src.user_agent_env}
    missing = [env for arg, env in required.items() if not creds[arg]]
    if missing:
        raise SourceDisabled(f"{words_list(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    check_user_agent(creds["user_agent"], src.user_agent_env)
    return RedditCollector(settings, creds)


def build_replier(settings: Settings) -> RedditCollector | None:
    """A Reddit collector able to reply, or None when app or user credentials are missing.

    Raises CredentialsError when they are present but REDDIT_USER_AGENT is malformed.
    """
    creds = _env(settings)
    if not (creds["client_id"] and creds["client_secret"] and creds["user_agent"] and has_user_credentials(creds)):
        return None
    check_user_agent(creds["user_agent"], settings.sources.reddit.user_agent_env)
    return RedditCollector(settings, creds)


# --- Normalizing --------------------------------------------------------------------


def to_mention(kind: str, data: dict, brand: Brand, query: str, reach: int, can_post: bool, via_inbox: bool = False) -> dict:
    """A store-ready mention row from one Reddit listing child (t3 submission or t1 comment)."""
    submission = kind == "t3"
    name = data.get("name") or f"{kind}_{data['id']}"
    text = item_text(kind, data)
    mentions = via_inbox or addresses_brand(text, brand, "reddit")
    thread = name if submission else _str_or_none(data.get("link_id"))
    author = data.get("author") if data.get("author") not in (None, "", "[deleted]") else None
    replyable = can_post and not (data.get("locked") or data.get("archived"))
    return {
        "platform": "reddit",
        "external_id": name,
        "brand": brand.name,
        "query": query,
        "text": text,
        "language": detect_language(text),
        "url": permalink(kind, data),
        "author_id": _str_or_none(data.get("author_fullname")) if author else None,
        "author_handle": author,
        "author_name": author,
        "author_reach": reach,
        "created_at": _created_at(data),
        "like_count": _count(data.get("score")),
        "repost_count": _count(data.get("num_crossposts")),
        "reply_count": _count(data.get("num_comments")) if submission else 0,
        "in_reply_to_id": None if submission else _str_or_none(data.get("parent_id")),
        "conversation_id": thread,
        "thread_id": thread,
        "mentions_brand_handle": mentions,
        "in_reply_to_brand": False,
        "reply_via_api": replyable and can_reply_via_api("reddit", brand, mentions),
        "raw": {"kind": kind, "data": data},
    }


def item_text(kind: str, data: dict) -> str:
    """What a post says: title and body for a submission, the body for a comment."""
    if kind == "t3":
        return "\n\n".join(part for part in (data.get("title") or "", data.get("selftext") or "") if part.strip())
    return data.get("body") or ""


def permalink(kind: str, data: dict) -> str:
    """The item's web address (inbox items carry 'context' instead of 'permalink')."""
    path = data.get("permalink") or (data.get("context") or "").split("?")[0]
    if path:
        return WEB + path if path.startswith("/") else path
    if kind == "t3":
        return f"{WEB}/comments/{data.get('id')}/"
    link = str(data.get("link_id") or "").removeprefix("t3_")
    return f"{WEB}/comments/{link}/_/{data.get('id')}/"


def _created_at(data: dict) -> str:
    """The item's creation time; the collection time when Reddit left it out."""
    try:
        return parse_time(data.get("created_utc"))
    except RecordError:
        log.warning("Reddit item %s has no usable created_utc; using the collection time", data.get("name"))
        return parse_time(utc_in(0).timestamp())


def _count(value: Any) -> int:
    """A non-negative integer count (Reddit scores can be negative; those count as 0)."""
    return int(value) if isinstance(value, (int, float)) and value > 0 else 0


def _str_or_none(value: Any) -> str | None:
    """An id as text, or None."""
    return str(value) if value not in (None, "") else None


def _utc(data: dict) -> float:
    """The item's created_utc as a number (0 when missing)."""
    value = data.get("created_utc")
    return float(value) if isinstance(value, (int, float)) else 0.0


def search_q(term: str) -> str:
    """A search term as Reddit query text: phrases are quoted."""
    term = term.strip()
    return f'"{term}"' if " " in term and not term.startswith('"') else term


def term_pattern(terms: tuple[str, ...]) -> re.Pattern:
    """A case-insensitive whole-word pattern matching any of the terms."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t.strip('"')) for t in terms) + r")(?!\w)", re.IGNORECASE)


# --- The collector ---------------------------------------------------------------------


class RedditCollector(Collector):
    """Searches, comment listings and inbox mentions through praw's authenticated session."""

    source = "reddit"

    def __init__(self, settings: Settings, creds: dict[str, str | None]):
        self.settings = settings
        self.can_post = has_user_credentials(creds)
        self.tracker = http.RateTracker("reddit")
        self.reddit = praw.Reddit(**_praw_kwargs(settings, creds, http.new_session(self.tracker, {})))
        self.karma: dict[str, int] = {}
        self._karma_broken = False

    # Reading

    def prepare(self, db) -> list[str]:
        """Nothing to look up before reading Reddit."""
        return []

    def queries(self) -> list[Query]:
        """Searches per brand term, comment listings of named subreddits, and the inbox."""
        found = []
        for brand in self.settings.brands:
            subs = "+".join(s.removeprefix("r/") for s in brand.reddit.subreddits) or "all"
            for term in brand.reddit.terms:
                found.append(Query("search", f"search:{term} in r/{subs}", brand, {"term": term, "subs": subs}))
            if brand.reddit.terms and subs.lower() != "all":
                params = {"subs": subs, "pattern": term_pattern(brand.reddit.terms)}
                found.append(Query("comments", f"comments:r/{subs}", brand, params))
        if self.can_post:
            found.append(Query("inbox", "inbox:mentions"))
            found.append(Query("replies", "inbox:comment_replies"))  # follow-ups: answers to our comments
        return found

    def fetch_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One listing page, newest first, stopping at items already seen (``since``)."""
        size = min(max(self.settings.sources.reddit.page_size, 1), 100)
        params: dict[str, Any] = {"limit": size}
        if token or until:
            params["after"] = token or until
        if query.kind == "search":
            path = f"/r/{query.params['subs']}/search"
            restrict = "0" if query.params["subs"].lower() == "all" else "1"
            params.update(q=search_q(query.params["term"]), sort="new", t="all", restrict_sr=restrict, type="link")
        elif query.kind == "comments":
            path = f"/r/{query.params['subs']}/comments"
        elif query.kind == "replies":
            path = "/message/comments"
        else:
            path = "/message/mentions"
        return self._page(self._get(path, params), query, since)

    def _page(self, listing: Any, query: Query, since: dict | None) -> Page:
        """Normalize one Listing, keeping items newer than ``since``."""
        children = _children(listing, query.key)
        fresh, reached = [], False
        for kind, data in children:
            if since and _utc(data) < since["utc"]:
                reached = True
                break
            if since and data.get("name") == since["name"]:
                reached = True  # the newest item stored last time: nothing below it is new
                continue
            fresh.append((kind, data))
        newest = max(fresh, key=lambda c: _utc(c[1]), default=None)
        after = (listing.get("data") or {}).get("after") if isinstance(listing, dict) else None
        return Page(
            self._normalize(fresh, query),
            next=after if (children and not reached) else None,
            newest={"utc": _utc(newest[1]), "name": newest[1].get("name")} if newest else None,
            oldest=fresh[-1][1].get("name") if fresh else None,
        )

    def _normalize(self, items: list[tuple[str, dict]], query: Query) -> list[dict]:
        """Mention rows for the items that belong to a brand and are not the brand's own."""
        if query.kind == "comments":
            items = [(k, d) for k, d in items if query.params["pattern"].search(str(d.get("body") or ""))]
        reach = self._reach([d.get("author_fullname") for _, d in items])
        rows = []
        for kind, data in items:
            brand = query.brand or self._inbox_brand(data)
            if brand is None or str(data.get("author", "")).lower() in handle_set(brand, "reddit"):
                continue
            karma = reach.get(str(data.get("author_fullname")), 0)
            try:
                inbox = query.kind in ("inbox", "replies")
                rows.append(to_mention(kind, data, brand, query.key, karma, self.can_post, via_inbox=inbox))
            except (AttributeError, TypeError, ValueError, OverflowError):
                log.warning("Reddit %s: skipped item %s with malformed fields", query.key, data.get("name"))
        return rows

    def _inbox_brand(self, data: dict) -> Brand | None:
        """The brand whose Reddit handle an inbox mention was addressed to."""
        dest = str(data.get("dest") or "").lower()
        for brand in self.settings.brands:
            if dest in handle_set(brand, "reddit"):
                return brand
        log.warning("Reddit inbox mention %s is for u/%s, which no brand lists in brands.reddit.handles; skipped",
                    data.get("name"), data.get("dest"))  # fmt: skip
        return None

    def _reach(self, fullnames: list[str | None]) -> dict[str, int]:
        """Karma per author fullname, looked up in batches of 100 and cached for the run.

        A failed lookup (a rate limit included) costs only the reach figures: the page
        already fetched is still stored, and the next request meets the limit itself.
        """
        wanted = sorted({f for f in fullnames if f and f.startswith("t2_") and f not in self.karma})
        for start in range(0, len(wanted), 100):
            if self._karma_broken:
                break
            batch = wanted[start : start + 100]
            try:
                found = self._get("/api/user_data_by_account_ids", {"ids": ",".join(batch)})
            except (PlatformError, RateLimited) as exc:
                log.warning("Reddit author karma unavailable (%s); reach is stored as 0", exc)
                self._karma_broken = True
                break
            for fullname in batch:
                user = found.get(fullname) if isinstance(found, dict) else None
                user = user if isinstance(user, dict) else {}
                self.karma[fullname] = _count(user.get("link_karma")) + _count(user.get("comment_karma"))
        return self.karma

    def rate_state(self) -> RateState:
        """The latest x-ratelimit figures Reddit sent."""
        return self.tracker.state

    # Replying

    def reply(self, mention: dict, text: str) -> ReplyResult:
        """Reply to a submission or comment with praw's ``reply``."""
        refuse_competitor(self.settings, mention)
        fullname = str(mention["external_id"])
        kind, _, short = fullname.partition("_")
        target = self.reddit.submission(id=short) if kind == "t3" else self.reddit.comment(id=short)
        try:
            created = target.reply(text)
        except RedditAPIException as exc:
            raise _api_error(exc) from exc
        except prawcore.PrawcoreException as exc:
            raise _translate(exc, "reply", self.settings) from exc
        if created is None:
            # Reddit made the comment but hid it (spam filter): it exists, so don't let staff retry.
            return ReplyResult(external_id=None, url=mention.get("url") or permalink(kind, {"id": short}))
        data = vars(created)  # read set attributes only: praw fetches missing ones lazily
        new_id = str(data.get("id"))
        url = permalink("t1", {"permalink": data.get("permalink"), "id": new_id, "link_id": data.get("link_id")})
        return ReplyResult(external_id=f"t1_{new_id}", url=url)

    # Calls and errors

    def _get(self, path: str, params: dict) -> Any:
        """A GET through praw's authenticated session; returns the parsed JSON."""
        if self.tracker.exhausted():
            reset = self.tracker.state.reset
            raise RateLimited(f"Reddit rate limit used up until {reset:%H:%M:%S} UTC", reset)
        try:
            return self.reddit.request(method="GET", path=path, params=params)
        except RedditAPIException as exc:
            raise _api_error(exc) from exc
        except prawcore.PrawcoreException as exc:
            raise _translate(exc, f"GET {path}", self.settings) from exc


def _praw_kwargs(settings: Settings, creds: dict[str, str | None], session) -> dict:
    """Arguments for praw.Reddit: credentials, our session, no update checks, optional hosts."""
    src = settings.sources.reddit
    kwargs = {
        "client_id": creds["client_id"], "client_secret": creds["client_secret"],
        "user_agent": creds["user_agent"].strip(), "check_for_updates": False,
        "check_for_async": False, "timeout": TIMEOUT, "requestor_kwargs": {"session": session},
    }  # fmt: skip
    if creds["refresh_token"]:
        kwargs["refresh_token"] = creds["refresh_token"]
    elif creds["username"] and creds["password"]:
        kwargs.update(username=creds["username"], password=creds["password"])
    if src.oauth_url:
        kwargs["oauth_url"] = src.oauth_url.rstrip("/")
    if src.reddit_url:
        kwargs["reddit_url"] = src.reddit_url.rstrip("/")
    return kwargs


def _children(listing: Any, key: str) -> list[tuple[str, dict]]:
    """(kind, data) pairs of a Listing, skipping malformed children (logged)."""
    data = listing.get("data") if isinstance(listing, dict) else None
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        log.warning("Reddit %s: response is not a listing; nothing stored from it", key)
        return []
    good = [
        (c["kind"], c["data"])
        for c in children
        if isinstance(c, dict) and isinstance(c.get("data"), dict) and c.get("kind") in ("t1", "t3")
        and (c["data"].get("name") or c["data"].get("id"))
    ]  # fmt: skip
    if len(good) < len(children):
        log.warning("Reddit %s: skipped %d malformed listing items", key, len(children) - len(good))
    return good


def _api_error(exc: RedditAPIException) -> Exception:
    """The named outcome for Reddit's in-body API errors (RATELIMIT, THREAD_LOCKED, ...)."""
    for item in exc.items:
        if item.error_type == "RATELIMIT":
            retry_at = utc_in(ratelimit_seconds(item.message or ""))
            return RateLimited(f"Reddit asks us to wait before posting again; retry after {retry_at:%H:%M:%S} UTC", retry_at)
    words = "; ".join(f"{i.error_type}: {i.message}" if i.message else i.error_type for i in exc.items)
    return PlatformError(f"Reddit refused: {words}")


def ratelimit_seconds(message: str) -> int:
    """Seconds to wait from a RATELIMIT message such as 'try again in 9 minutes'."""
    match = RATELIMIT_TEXT.search(message)
    if not match:
        return DEFAULT_RESET_SECONDS
    amount, unit = int(match.group(1)), match.group(2).lower()
    return {"millisecond": 1, "second": amount, "minute": amount * 60, "hour": amount * 3600}[unit]


def _translate(exc: prawcore.PrawcoreException, doing: str, settings: Settings) -> Exception:
    """The named outcome for a prawcore error while ``doing`` something."""
    src = settings.sources.reddit
    posting = doing == "reply"
    if isinstance(exc, prawcore.TooManyRequests):
        retry_at = utc_in(_retry_after(exc.response))
        return RateLimited(f"Reddit rate limit reached ({doing}); retry after {retry_at:%H:%M:%S} UTC", retry_at)
    if isinstance(exc, prawcore.OAuthException):
        return CredentialsError(
            f"Reddit rejected the user credentials ({exc.error}): check {src.username_env} and "
            f"{src.password_env}, or {src.refresh_token_env}"
        )
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, prawcore.InvalidToken) or status == 401:
        return CredentialsError(f"Reddit rejected the app credentials (401): check {src.client_id_env} and {src.client_secret_env}")
    if isinstance(exc, prawcore.Forbidden):
        where = "the account may be banned there or the thread restricted" if posting else "the subreddit may be private or banned"
        return PlatformError(f"Reddit refused the {doing} (403): {where}")
    if isinstance(exc, prawcore.Redirect | prawcore.NotFound):
        return PlatformError(f"Reddit could not find what {doing} asked for (check the subreddit names in config.toml)")
    if isinstance(exc, prawcore.ServerError | prawcore.RequestException):
        what = f"Reddit server error ({status})" if status else "could not reach Reddit"
        if posting:
            return PlatformError(f"{what}; the reply may or may not have been posted, so check the thread before trying again")
        return PlatformError(f"{what} during {doing}, after retries")
    return PlatformError(f"Reddit {doing} failed ({status or type(exc).__name__})")


def _retry_after(response) -> float:
    """Seconds until a 429 may be retried, from Retry-After or x-ratelimit-reset."""
    for header in ("retry-after", "x-ratelimit-reset"):
        value = response.headers.get(header) if response is not None else None
        try:
            return max(float(value), 1.0)
        except (TypeError, ValueError):
            continue
    return DEFAULT_RESET_SECONDS
