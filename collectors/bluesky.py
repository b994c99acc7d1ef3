"""Bluesky collector over the atproto SDK's Client: post search per brand term, the account's notifications, replies.

The account logs in with a handle and an app password from the environment.
Positions are a post's (indexedAt, uri): a sweep pages down newest first and
stops at the saved high-water mark; an interrupted sweep keeps the API cursor
it stopped at in its gap, so the next run resumes there.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from atproto import Client, models
from atproto_client import exceptions as at_errors
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError

import store
from collectors import http
from collectors.base import (
    Collector,
    CredentialsError,
    CursorExpired,
    Page,
    PlatformError,
    Query,
    RateLimited,
    ReplyRestricted,
    ReplyResult,
    SourceDisabled,
    Transient,
    count,
    detect_language,
    handle_set,
    refuse_competitor,
    utc_in,
    with_retries,
    words_list,
)
from formats import RecordError, parse_time

if TYPE_CHECKING:
    from settings import Brand, Settings

log = logging.getLogger("earshot.collectors.bluesky")

ORIGIN = "https://bsky.social"
WEB = "https://bsky.app"
REASONS = ["mention", "reply", "quote"]
SESSION_ERRORS = {"ExpiredToken", "InvalidToken"}
DEFAULT_RESET_SECONDS = 5 * 60  # Bluesky's rate-limit window, when a 429 carries no reset header
META_DID = "bluesky.did:"
PROFILES_PER_CALL = 25  # getProfiles and getPosts take at most 25 actors or posts


# --- Building ---------------------------------------------------------------------


def _login_env(settings: Settings) -> tuple[str | None, str | None, list[str]]:
    """The handle and app password from the environment, and the names of those missing."""
    src = settings.sources.bluesky
    handle, password = settings.env(src.handle_env), settings.env(src.app_password_env)
    missing = [
        name for name, value in ((src.handle_env, handle), (src.app_password_env, password)) if not value
    ]
    return handle, password, missing


def build(settings: Settings, retries: int = 3, backoff: float = 2.0) -> BlueskyCollector:
    """The Bluesky collector; raise SourceDisabled when switched off or the login is not in the environment."""
    if not settings.sources.bluesky.enabled:
        raise SourceDisabled("disabled in config ([sources.bluesky] enabled = false)")
    handle, password, missing = _login_env(settings)
    if missing:
        raise SourceDisabled(f"{words_list(missing)} {'is' if len(missing) == 1 else 'are'} not set")
    return BlueskyCollector(settings, handle, password, retries=retries, backoff=backoff)


def build_replier(settings: Settings) -> BlueskyCollector | None:
    """A Bluesky collector able to reply, or None when the handle or app password is missing."""
    handle, password, missing = _login_env(settings)
    return None if missing else BlueskyCollector(settings, handle, password)


# --- Normalizing --------------------------------------------------------------------


def post_url(handle: str | None, uri: str) -> str:
    """The bsky.app page of a post."""
    did, _, rkey = uri.removeprefix("at://").partition("/app.bsky.feed.post/")
    return f"{WEB}/profile/{handle or did}/post/{rkey}"


def uri_did(uri: str | None) -> str | None:
    """The DID of the repository an at:// URI points into."""
    if not uri or not uri.startswith("at://"):
        return None
    return uri.removeprefix("at://").split("/", 1)[0] or None


def to_mention(post: dict, brand: Brand, query: str, brand_dids: set[str], reason: str | None = None,
               reach: int = 0) -> dict:  # fmt: skip
    """A store-ready mention row from one post view (or notification, whose ``reason`` is given)."""
    record = post.get("record") or {}
    author = post.get("author") or {}
    reply = record.get("reply") or {}
    uri = str(post["uri"])
    text = record.get("text") or ""
    parent = (reply.get("parent") or {}).get("uri")
    mentions = (
        reason in ("mention", "quote") or bool(_tagged(record) & brand_dids) or _quoted(record) in brand_dids
    )
    replying = reason == "reply" or uri_did(parent) in brand_dids
    gated = bool((post.get("viewer") or {}).get("replyDisabled"))
    return {
        "platform": "bluesky",
        "external_id": uri,
        "brand": brand.name,
        "query": query,
        "text": text,
        "language": _language(record, text),
        "url": post_url(author.get("handle"), uri),
        "author_id": author.get("did"),
        "author_handle": author.get("handle"),
        "author_name": author.get("displayName") or author.get("handle"),
        "author_reach": reach,
        "created_at": _created_at(record, post),
        "like_count": count(post.get("likeCount")),
        "repost_count": count(post.get("repostCount")) + count(post.get("quoteCount")),
        "reply_count": count(post.get("replyCount")),
        "in_reply_to_id": parent,
        "conversation_id": (reply.get("root") or {}).get("uri") or uri,
        "thread_id": (reply.get("root") or {}).get("uri") or uri,
        "mentions_brand_handle": mentions,
        "in_reply_to_brand": replying,
        "reply_via_api": not brand.competitor and not gated,
        "raw": {"post": post, "reason": reason},
    }


def _tagged(record: dict) -> set[str]:
    """The DIDs a post's mention facets point at."""
    found = set()
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if isinstance(feature, dict) and feature.get("did"):
                found.add(feature["did"])
    return found


def _quoted(record: dict) -> str | None:
    """The DID of the author of the post this one quotes, if any."""
    embed = record.get("embed") or {}
    inner = embed.get("record") or {}
    inner = inner.get("record", inner) if isinstance(inner, dict) else {}
    return uri_did(inner.get("uri")) if isinstance(inner, dict) else None


def _language(record: dict, text: str) -> str | None:
    """The post's first declared language, or a detected one."""
    langs = record.get("langs") or []
    return str(langs[0]).split("-")[0].lower() if langs else detect_language(text)


def _created_at(record: dict, post: dict) -> str:
    """When the post was written; when it was indexed if the record's time is missing or garbled."""
    for value in (record.get("createdAt"), post.get("indexedAt")):
        try:
            return parse_time(value)
        except RecordError:
            continue
    log.warning("Bluesky post %s has no usable time; using the collection time", post.get("uri"))
    return store.utcnow()


def position(item: dict) -> list[str] | None:
    """Where an item sits in a newest-first listing: [indexedAt as UTC text, uri], or None when unusable."""
    try:
        at = datetime.fromisoformat(str(item["indexedAt"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return None
    return [at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(item.get("uri") or "")]


def _stored(value: Any) -> Any:
    """A stored column value decoded from JSON when it is text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return {}
    return value or {}


# --- The collector ---------------------------------------------------------------------


class _Rates(http.RateTracker):
    """An httpx response hook that keeps Bluesky's ratelimit-* headers."""

    def __call__(self, response: httpx.Response, *args, **kwargs) -> None:
        """Read ratelimit-remaining and ratelimit-reset (epoch seconds) when present."""
        headers = response.headers
        if "ratelimit-remaining" not in headers:
            return
        try:
            self.state.remaining = int(headers["ratelimit-remaining"])
            reset = headers.get("ratelimit-reset")
            self.state.reset = datetime.fromtimestamp(int(reset), UTC) if reset else None
        except ValueError:
            log.debug("unreadable rate-limit headers from %s", response.url)


class BlueskyCollector(Collector):
    """Post search per brand term and the account's mention, reply and quote notifications."""

    source = "bluesky"

    def __init__(
        self, settings: Settings, handle: str, password: str, retries: int = 3, backoff: float = 2.0
    ):
        self.settings = settings
        self.handle = handle.lstrip("@")
        self._password = password
        self.retries = retries
        self.backoff = backoff
        self.tracker = _Rates("bluesky")
        request = Request(timeout=http.DEFAULT_TIMEOUT, event_hooks={"response": [self.tracker]})
        self.client = Client(base_url=settings.sources.bluesky.api_base or ORIGIN, request=request)
        self.logged_in = False
        self.dids: dict[str, str] = {}
        self.reach: dict[str, int] = {}
        self.limited: RateLimited | None = None

    # Session

    def login(self) -> None:
        """Log in with the app password (once; again after the session expired)."""
        if self.logged_in:
            return
        try:
            self.client.login(self.handle, self._password)
        except at_errors.UnauthorizedError as exc:
            src = self.settings.sources.bluesky
            raise CredentialsError(
                f"Bluesky rejected the login ({_status(exc)}: {_detail(exc)}): the app password may have been "
                f"revoked; check {src.handle_env} and {src.app_password_env}"
            ) from exc
        except AtProtocolError as exc:
            raise _translate(exc, "login", self.settings) from exc
        self.logged_in = True
        if self.client.me is not None:
            self.dids[self.handle.lower()] = self.client.me.did

    def _attempt(self, doing: str, call):
        """One call; an expired or revoked session logs in again once, then the call is repeated."""
        try:
            return self._send(doing, call)
        except _SessionExpired:
            log.info("Bluesky session expired; logging in again")
            self.logged_in = False
            self.login()
            try:
                return self._send(doing, call)
            except _SessionExpired as exc:
                raise CredentialsError(f"Bluesky keeps refusing the session ({exc}): log in again") from exc

    # Reading

    def prepare(self, db) -> list[str]:
        """Log in, then resolve the brands' handles to DIDs (cached); return the lookups that failed."""
        self.login()
        problems = []
        for handle in sorted(
            {h.lower().lstrip("@") for b in self.settings.brands for h in b.bluesky.handles}
        ):
            if handle in self.dids:
                continue
            cached = store.get_meta(db, META_DID + handle)
            if cached:
                self.dids[handle] = cached
                continue
            try:
                did = self._call("resolveHandle", lambda h=handle: self.client.resolve_handle(h)).did
            except (PlatformError, RateLimited) as exc:
                problems.append(
                    f"resolving @{handle}: {exc}; posts tagging it are not seen as addressing the brand"
                )
                continue
            self.dids[handle] = did
            store.set_meta(db, META_DID + handle, did)
        return problems

    def brand_dids(self, brand: Brand) -> set[str]:
        """The DIDs of a brand's Bluesky accounts that are known."""
        return {self.dids[h] for h in handle_set(brand, "bluesky") if h in self.dids}

    def own_brand(self) -> Brand | None:
        """The brand whose Bluesky handles include the logged-in account."""
        for brand in self.settings.brands:
            if self.handle.lower() in handle_set(brand, "bluesky"):
                return brand
        return None

    def queries(self) -> list[Query]:
        """A search per brand term, and the notifications of the logged-in brand account."""
        found = [
            Query("search", f"search:{term}", brand, {"q": term})
            for brand in self.settings.brands
            for term in brand.bluesky.terms
        ]
        brand = self.own_brand()
        if brand is not None:
            found.append(Query("notifications", f"notifications:@{self.handle}", brand))
        else:
            log.warning("Bluesky account @%s is no brand's [brands.bluesky] handle; its notifications are not read",
                        self.handle)  # fmt: skip
        return found

    def fetch_page(self, query: Query, since: Any, until: Any, token: str | None) -> Page:
        """One page of a search or of the notifications, newest first, from ``token`` (or a gap's cursor)."""
        cursor = token or (until or {}).get("cursor")
        size = self.settings.sources.bluesky.page_size
        if query.kind == "search":
            params = {"q": query.params["q"], "sort": "latest", "limit": size, "cursor": cursor}
            body = self._call("search", lambda: self.client.app.bsky.feed.search_posts(params=params))
            items, reasons = body.posts, None
        else:
            params = {"limit": size, "cursor": cursor, "reasons": REASONS}
            body = self._call(
                "notifications", lambda: self.client.app.bsky.notification.list_notifications(params=params)
            )
            notes = [models.get_model_as_dict(n) for n in body.notifications if n.reason in REASONS]
            items, reasons = self._hydrate(notes), [n["reason"] for n in notes]
            return self._page(items, reasons, query, since, body.cursor)
        return self._page([models.get_model_as_dict(i) for i in items], reasons, query, since, body.cursor)

    def _hydrate(self, notes: list[dict]) -> list[dict]:
        """Notifications as full post views (counts, thread gate), keeping the notification's place in the list.

        A notification carries only the record; its post view comes from getPosts,
        25 at a time. A post that has gone keeps the notification's own fields.
        """
        views: dict[str, dict] = {}
        uris = [n["uri"] for n in notes]
        for start in range(0, len(uris), PROFILES_PER_CALL):
            batch = uris[start : start + PROFILES_PER_CALL]
            found = self._call("posts", lambda b=batch: self.client.get_posts(b)).posts
            views.update((v.uri, models.get_model_as_dict(v)) for v in found)
        return [{**views.get(n["uri"], n), "indexedAt": n["indexedAt"]} for n in notes]

    def _page(
        self, items: list[dict], reasons: list[str] | None, query: Query, since: Any, cursor: str | None
    ) -> Page:
        """The items above ``since`` as a Page; the sweep is done when it reached ``since`` or the end."""
        floor = tuple(since) if since else None
        fresh, reached = [], False
        for i, item in enumerate(items):
            spot = position(item)
            if spot is None:
                log.warning("Bluesky %s: skipped an item without a usable indexedAt: %.200r", query.key, item)
            elif floor is not None and tuple(spot) <= floor:
                reached = True
            else:
                fresh.append((spot, item, reasons[i] if reasons else None))
        if not fresh:
            return Page([])
        spots = [spot for spot, _, _ in fresh]
        rows = self._normalize(fresh, query)
        done = reached or not cursor or not items
        oldest = {"at": min(spots)[0], "uri": min(spots)[1], "cursor": cursor}
        return Page(rows, next=None if done else cursor, newest=max(spots), oldest=oldest)

    def _normalize(self, fresh: list, query: Query) -> list[dict]:
        """The items as mention rows, skipping the brand's own posts and malformed ones (logged)."""
        dids = self.brand_dids(query.brand)
        self._learn_reach([item.get("author", {}).get("did") for _, item, _ in fresh])
        rows = []
        for _, item, reason in fresh:
            if (item.get("author") or {}).get("did") in dids:
                continue  # the brand's own post is not a mention
            try:
                reach = self.reach.get(item["author"]["did"], 0)
                rows.append(to_mention(item, query.brand, query.key, dids, reason, reach))
            except (AttributeError, KeyError, TypeError, ValueError):
                log.warning("Bluesky %s: skipped post %s with malformed fields", query.key, item.get("uri"))
        return rows

    def _learn_reach(self, dids: list[str | None]) -> None:
        """Fetch follower counts of authors not yet seen this run (25 per call); a failure costs only reach."""
        unknown = sorted({d for d in dids if d and d not in self.reach})
        for start in range(0, len(unknown), PROFILES_PER_CALL):
            batch = unknown[start : start + PROFILES_PER_CALL]
            try:
                body = self._call("profiles", lambda b=batch: self.client.get_profiles(b))
            except PlatformError as exc:
                log.warning("Bluesky profiles: %s; follower counts are left at 0", exc)
                return
            for profile in body.profiles:
                self.reach[profile.did] = profile.followers_count or 0

    def rate_state(self):
        """The latest ratelimit-* figures Bluesky sent."""
        return self.tracker.state

    # Replying

    def reply(self, mention: dict, text: str) -> ReplyResult:
        """Reply with root and parent references and link facets, unless a thread gate refuses it."""
        refuse_competitor(self.settings, mention)
        post = _stored(mention.get("raw")).get("post") or {}
        if not post.get("uri") or not post.get("cid"):
            raise PlatformError("this mention has no Bluesky post reference stored; collect it again")
        self.login()
        self._check_gate(post["uri"])
        parent = models.ComAtprotoRepoStrongRef.Main(uri=post["uri"], cid=post["cid"])
        root_ref = ((post.get("record") or {}).get("reply") or {}).get("root") or {}
        has_root = root_ref.get("uri") and root_ref.get("cid")
        root = (
            models.ComAtprotoRepoStrongRef.Main(uri=root_ref["uri"], cid=root_ref["cid"])
            if has_root
            else parent
        )
        ref = models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)
        facets = self._attempt("reply", lambda: self.client.detect_facets(text)) or None
        created = self._attempt("reply", lambda: self.client.send_post(text, reply_to=ref, facets=facets))
        return ReplyResult(external_id=created.uri, url=post_url(self.handle, created.uri))

    def _check_gate(self, uri: str) -> None:
        """Raise ReplyRestricted when the post's thread gate does not let this account reply."""
        views = self._attempt("reply", lambda: self.client.get_posts([uri])).posts
        if not views:
            raise PlatformError(
                "the post is gone from Bluesky (deleted, or its author blocked the brand account)"
            )
        viewer = views[0].viewer
        if viewer is not None and viewer.reply_disabled:
            raise ReplyRestricted(
                "the author's thread gate does not let the brand account reply: reply on Bluesky instead"
            )

    # Calls and errors

    def _call(self, endpoint: str, call):
        """A read call with bounded retries for server errors, timeouts and malformed answers."""
        if self.limited is not None:
            raise self.limited
        result = with_retries(
            lambda: self._attempt(endpoint, call), self.retries, self.backoff, f"Bluesky {endpoint}"
        )
        if self.tracker.exhausted():
            reset = self.tracker.state.reset
            self.limited = RateLimited(f"Bluesky rate limit used up until {reset:%H:%M:%S} UTC", reset)
        return result

    def _send(self, doing: str, call):
        """Make one call, turning atproto errors into named outcomes."""
        try:
            return call()
        except (at_errors.BadRequestError, at_errors.UnauthorizedError) as exc:
            if _error_name(exc) in SESSION_ERRORS or _status(exc) == 401:
                raise _SessionExpired(_detail(exc)) from exc
            raise _translate(exc, doing, self.settings) from exc
        except AtProtocolError as exc:
            raise _translate(exc, doing, self.settings) from exc
        except ValueError as exc:  # an answer that is not JSON (pydantic's from_json)
            if doing == "reply":
                raise PlatformError(
                    "Bluesky sent an unreadable answer; check the thread before trying again"
                ) from exc
            raise Transient("Bluesky sent a response that is not JSON") from exc


class _SessionExpired(Exception):
    """The access or refresh token was refused as expired or invalid."""


def _translate(exc: AtProtocolError, doing: str, settings: Settings) -> Exception:
    """The named outcome for an atproto error while ``doing`` something."""
    status, detail = _status(exc), _detail(exc)
    if isinstance(exc, at_errors.RateLimitExceededError):
        retry_at = _reset(exc) or utc_in(DEFAULT_RESET_SECONDS)
        return RateLimited(
            f"Bluesky rate limit reached ({doing}); retry after {retry_at:%H:%M:%S} UTC", retry_at
        )
    if isinstance(exc, at_errors.UnauthorizedError):
        src = settings.sources.bluesky
        return CredentialsError(f"Bluesky refused the session ({status}: {detail}): check {src.handle_env} and "
                                f"{src.app_password_env}")  # fmt: skip
    if isinstance(exc, at_errors.BadRequestError) and "cursor" in detail.lower():
        return CursorExpired(f"Bluesky no longer accepts the saved cursor: {detail}")
    if isinstance(exc, at_errors.ModelError):
        return Transient(f"Bluesky sent an answer in an unexpected shape ({exc})")
    server_side = isinstance(exc, at_errors.NetworkError) or (isinstance(status, int) and status >= 500)
    if server_side and doing == "reply":
        return PlatformError(f"Bluesky had a server or network error ({status}); the reply may or may not have "
                             "been posted, so check the thread before trying again")  # fmt: skip
    if server_side:
        return Transient(f"Bluesky server or network error ({status})")
    return PlatformError(f"Bluesky {doing} request failed ({status}): {detail}")


def _response(exc: AtProtocolError):
    """The response an atproto error carries, if any."""
    return getattr(exc, "response", None)


def _status(exc: AtProtocolError) -> int | str:
    """The HTTP status of an atproto error, or "no answer"."""
    response = _response(exc)
    return response.status_code if response is not None else "no answer"


def _error_name(exc: AtProtocolError) -> str:
    """The XRPC error name ("ExpiredToken"), if the answer had one."""
    content = getattr(_response(exc), "content", None)
    return str(getattr(content, "error", "") or "")


def _detail(exc: AtProtocolError) -> str:
    """Bluesky's own explanation of an error, in one line."""
    content = getattr(_response(exc), "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None) or type(exc).__name__
    return " ".join(str(message).split())[:300]


def _reset(exc: AtProtocolError) -> datetime | None:
    """The reset time of a 429 from its ratelimit-reset header."""
    headers = getattr(_response(exc), "headers", None) or {}
    try:
        return datetime.fromtimestamp(int(headers["ratelimit-reset"]), UTC)
    except (KeyError, ValueError):
        return None
