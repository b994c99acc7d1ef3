"""A fake Mastodon server on 127.0.0.1, answering with Mastodon's entity JSON, for Mastodon.py's real client.

It serves what Earshot's Mastodon collector calls:

    GET  /api/v1/accounts/verify_credentials    GET /api/v2/instance
    GET  /api/v1/notifications                  GET /api/v1/timelines/tag/<tag>
    GET  /api/v2/search                         POST /api/v1/statuses

In a test::

    with FakeMastodon("mastodon.social") as server:
        server.add_account("LuminaMobile", brand=True)          # the account behind the token
        status_id = server.add_status("Help @LuminaMobile", author="ana@other.example")
        server.fail("GET", "/api/v1/notifications", 503)         # the next such call fails
        server.malformed("GET", "/api/v1/notifications")         # the next such call is not JSON
        server.posted                                            # statuses created through the API
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, timedelta
from urllib.parse import parse_qs

from fake_bluesky import NetworkFake
from fakeapi import _iso

import clock

try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

TOKEN = "fake-mastodon-token"


class FakeMastodon(NetworkFake):
    """Accounts, statuses and notifications of one fake Mastodon server."""

    def __init__(self, domain: str = "mastodon.social", port: int = 0, max_characters: int = 500,
                 search: bool = True, token: str = TOKEN):  # fmt: skip
        super().__init__(port)
        self.domain = domain
        self.max_characters = max_characters
        self.search_enabled = search
        self.token = token
        self.accounts: dict[str, dict] = {}  # local id -> account entity (+ _brand)
        self.statuses: dict[str, dict] = {}  # local id -> status entity
        self.notes: list[dict] = []
        self.posted: list[dict] = []
        self.keys: dict[str, dict] = {}  # Idempotency-Key -> the status it created
        self.remaining = 299

    def env(self, name: str = "MASTODON_ACCESS_TOKEN") -> dict[str, str]:
        """The token the fake accepts, under the variable Earshot reads it from."""
        return {name: self.token}

    # --- data ------------------------------------------------------------------------

    def _id(self) -> str:
        """A snowflake-like id, growing with every item."""
        return str(110_000_000_000_000_000 + self._next() * 1000)

    def add_account(
        self, acct: str, name: str | None = None, followers: int = 10, brand: bool = False
    ) -> str:
        """Add an account ("user" local, "user@domain" remote); brand=True: the token's account. Return its id."""
        with self.lock:
            for account in self.accounts.values():
                if account["acct"].lower() == acct.lower():
                    return account["id"]
            username, _, domain = acct.partition("@")
            home = domain or self.domain
            account_id = self._id()
            self.accounts[account_id] = {
                "id": account_id, "username": username, "acct": acct, "display_name": name or username,
                "locked": False, "bot": False, "discoverable": True, "group": False,
                "created_at": "2024-01-01T00:00:00.000Z", "note": "", "url": f"https://{home}/@{username}",
                "uri": f"https://{home}/users/{username}", "avatar": "", "avatar_static": "", "header": "",
                "header_static": "", "followers_count": followers, "following_count": 4, "statuses_count": 20,
                "last_status_at": "2026-11-01", "emojis": [], "fields": [], "_brand": brand,
            }  # fmt: skip
            return account_id

    def add_status(self, text: str, author: str = "someone@other.example", visibility: str = "public",
                   reply_to: str | None = None, tags: tuple[str, ...] = (), likes: int = 0) -> str:  # fmt: skip
        """Add a status dated after every earlier one; @mentions of known accounts become mentions. Return its id."""
        with self.lock:
            account_id = self.add_account(author)
            account = self.accounts[account_id]
            status_id = self._id()
            home = author.partition("@")[2] or self.domain
            mentions = [
                self._mention(a) for a in re.findall(r"@([\w.]+(?:@[\w.-]+)?)", text) if self._find(a)
            ]
            parent = self.statuses.get(reply_to) if reply_to else None
            status = {
                "id": status_id, "uri": f"https://{home}/users/{account['username']}/statuses/{status_id}",
                "url": f"https://{home}/@{account['username']}/{status_id}", "created_at": _iso(self._tick()),
                "account": self._public(account), "content": f"<p>{html.escape(text)}</p>",
                "visibility": visibility, "sensitive": False, "spoiler_text": "", "language": "en",
                "in_reply_to_id": parent["id"] if parent else None,
                "in_reply_to_account_id": parent["account"]["id"] if parent else None,
                "reblog": None, "mentions": mentions,
                "tags": [{"name": t.lower(), "url": f"https://{self.domain}/tags/{t.lower()}"} for t in tags],
                "emojis": [], "media_attachments": [], "replies_count": 0, "reblogs_count": 0,
                "favourites_count": likes, "edited_at": None, "poll": None, "card": None, "application": None,
            }  # fmt: skip
            self.statuses[status_id] = status
            if any(self._find(m["acct"]).get("_brand") for m in mentions):
                self.notes.append({"id": self._id(), "type": "mention", "created_at": status["created_at"],
                                   "account": status["account"], "status": status})  # fmt: skip
            return status_id

    def _find(self, acct: str) -> dict:
        """An account by acct (case-insensitive), or {}."""
        return next((a for a in self.accounts.values() if a["acct"].lower() == acct.lower()), {})

    def _mention(self, acct: str) -> dict:
        """A status's mention entry."""
        account = self._find(acct)
        return {
            "id": account["id"],
            "username": account["username"],
            "url": account["url"],
            "acct": account["acct"],
        }

    @staticmethod
    def _public(account: dict) -> dict:
        """An account entity without the fake's own keys."""
        return {k: v for k, v in account.items() if not k.startswith("_")}

    # --- responses -------------------------------------------------------------------

    def rate_headers(self) -> dict:
        """Mastodon's X-RateLimit-* headers (the reset as an ISO 8601 time)."""
        self.remaining = max(self.remaining - 1, 0)
        return self._limit_headers(self.remaining, 300)

    @staticmethod
    def _limit_headers(remaining: int, seconds: int) -> dict:
        """X-RateLimit headers resetting ``seconds`` from now on Earshot's clock."""
        reset = (clock.now() + timedelta(seconds=seconds)).astimezone(UTC)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")}  # fmt: skip

    def fail_headers(self, status: int) -> dict:
        """A 429 says when the window resets."""
        return self._limit_headers(0, 600) if status == 429 else {}

    def problem(self, status: int) -> dict:
        """Mastodon's error body."""
        words = {401: "The access token is invalid", 403: "This action is not allowed", 404: "Record not found",
                 410: "Gone", 422: "Validation failed", 429: "Too many requests",
                 500: "We're sorry, but something went wrong", 503: "Service Unavailable"}  # fmt: skip
        return {"error": words.get(status, "Error")}

    def authorized(self, headers) -> bool:
        """Whether the request carries this server's token."""
        return headers.get("Authorization") == f"Bearer {self.token}"

    def brand_account(self) -> dict:
        """The account behind the token."""
        return next(a for a in self.accounts.values() if a["_brand"])


def _window(items: list[dict], query: dict) -> list[dict]:
    """Items newest first between since_id/min_id and max_id, at most ``limit`` (default 20, most 40)."""

    def num(name):
        return int(query[name]) if str(query.get(name, "")).isdigit() else None

    low, high = num("since_id") or num("min_id"), num("max_id")
    found = sorted(items, key=lambda i: int(i["id"]), reverse=True)
    found = [
        i for i in found if (low is None or int(i["id"]) > low) and (high is None or int(i["id"]) < high)
    ]
    limit = min(int(query.get("limit") or 20), 40)
    return found[:limit]


def _guard(api: FakeMastodon, headers):
    """The 401 answer for a request without the server's token, or None."""
    return None if api.authorized(headers) else (401, {}, api.problem(401))


def verify_credentials(api: FakeMastodon, match, query, body, headers):
    """GET /api/v1/accounts/verify_credentials: the token's account (a CredentialAccount)."""
    refused = _guard(api, headers)
    if refused:
        return refused
    account = api._public(api.brand_account())
    return 200, {}, {**account, "source": {"privacy": "public", "sensitive": False, "language": "en", "note": "",
                                           "fields": []}}  # fmt: skip


def instance(api: FakeMastodon, match, query, body, headers):
    """GET /api/v2/instance with the configured status length limit."""
    return 200, {}, {
        "domain": api.domain, "title": api.domain, "version": "4.3.2", "source_url": "", "description": "",
        "usage": {"users": {"active_month": 10}}, "thumbnail": {"url": ""}, "languages": ["en"],
        "configuration": {"urls": {"streaming": f"wss://{api.domain}"}, "accounts": {"max_featured_tags": 10},
                          "statuses": {"max_characters": api.max_characters, "max_media_attachments": 4,
                                       "characters_reserved_per_url": 23},
                          "translation": {"enabled": False}},
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "", "account": None}, "rules": [], "api_versions": {"mastodon": 2},
    }  # fmt: skip


def instance_v1(api: FakeMastodon, match, query, body, headers):
    """GET /api/v1/instance (Mastodon.py reads the version from it)."""
    return 200, {}, {"uri": api.domain, "title": api.domain, "version": "4.3.2", "description": "",
                     "configuration": {"statuses": {"max_characters": api.max_characters}}}  # fmt: skip


def notifications(api: FakeMastodon, match, query, body, headers):
    """GET /api/v1/notifications (types[]=mention)."""
    refused = _guard(api, headers)
    if refused:
        return refused
    types = query.get("types[]") or []
    found = [n for n in api.notes if not types or n["type"] in types]
    return 200, {}, _window(found, query)


def hashtag(api: FakeMastodon, match, query, body, headers):
    """GET /api/v1/timelines/tag/<tag>."""
    tag = match.group(1).lower()
    found = [s for s in api.statuses.values() if any(t["name"] == tag for t in s["tags"])]
    return 200, {}, _window(found, query)


def search(api: FakeMastodon, match, query, body, headers):
    """GET /api/v2/search?type=statuses: full-text, where the server has search enabled."""
    refused = _guard(api, headers)
    if refused:
        return refused
    term = str(query.get("q", "")).lower()
    found = [
        s for s in api.statuses.values() if api.search_enabled and term in html.unescape(s["content"]).lower()
    ]
    return 200, {}, {"accounts": [], "statuses": _window(found, query), "hashtags": []}


def post_status(api: FakeMastodon, match, query, body: bytes, headers):
    """POST /api/v1/statuses: a reply needs a known in_reply_to_id and text within the limit."""
    refused = _guard(api, headers)
    if refused:
        return refused
    form = _form(body, headers)
    key = headers.get("Idempotency-Key")
    if key and key in api.keys:
        return 200, {}, api.keys[key]
    text = str(form.get("status", ""))
    if _length(text) > api.max_characters:
        return 422, {}, {"error": f"Validation failed: Text character limit of {api.max_characters} exceeded"}
    parent = form.get("in_reply_to_id")
    if parent and parent not in api.statuses:
        return 404, {}, api.problem(404)
    me = api.brand_account()
    new_id = api._id()
    created = {**api.statuses[parent], "id": new_id} if parent else {}
    created.update({"id": new_id, "uri": f"https://{api.domain}/users/{me['username']}/statuses/{new_id}",
                    "url": f"https://{api.domain}/@{me['username']}/{new_id}", "account": api._public(me),
                    "content": f"<p>{html.escape(text)}</p>", "visibility": form.get("visibility", "public"),
                    "in_reply_to_id": parent, "created_at": _iso(clock.now().timestamp()), "mentions": [],
                    "tags": [], "reblog": None})  # fmt: skip
    api.posted.append(
        {"in_reply_to_id": parent, "status": text, "visibility": form.get("visibility"), "id": new_id}
    )
    if key:
        api.keys[key] = created
    return 200, {}, created


def _length(text: str) -> int:
    """A status's length as Mastodon counts it: links 23, a mention of user@server as @user."""
    links = re.findall(r"https?://\S+", text)
    rest = re.sub(r"(@\w+)@[\w.-]+\w", r"\1", re.sub(r"https?://\S+", "", text))
    return len(rest) + 23 * len(links)


def _form(body: bytes, headers) -> dict:
    """A POST body as a dict, whether JSON or form-encoded."""
    if "json" in (headers.get("Content-Type") or ""):
        return json.loads(body or b"{}")
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


FakeMastodon.routes = [
    (r"/api/v1/accounts/verify_credentials", "GET", verify_credentials),
    (r"/api/v2/instance", "GET", instance),
    (r"/api/v1/instance", "GET", instance_v1),
    (r"/api/v1/notifications", "GET", notifications),
    (r"/api/v1/timelines/tag/([\w]+)", "GET", hashtag),
    (r"/api/v2/search", "GET", search),
    (r"/api/v1/statuses", "POST", post_status),
]


def server_config(api: FakeMastodon, search: bool = True, token_env: str = "MASTODON_ACCESS_TOKEN") -> str:
    """A [[sources.mastodon.servers]] table pointing at this fake."""
    return (f'\n[[sources.mastodon.servers]]\nname = "{api.domain}"\napi_base = "{api.url}"\n'
            f'access_token_env = "{token_env}"\nsearch = {"true" if search else "false"}\n')  # fmt: skip


if pytest is not None:

    @pytest.fixture
    def fake_mastodon():
        """A running FakeMastodon for mastodon.social with the brand account LuminaMobile."""
        with FakeMastodon("mastodon.social") as api:
            api.add_account("LuminaMobile", name="Lumina Mobile", followers=30_000, brand=True)
            yield api
