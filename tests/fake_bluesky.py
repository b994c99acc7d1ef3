"""A fake Bluesky XRPC service on 127.0.0.1, answering in the lexicon's shapes, for the atproto SDK's real Client.

It serves what Earshot's Bluesky collector calls:

    POST com.atproto.server.createSession / refreshSession   GET com.atproto.identity.resolveHandle
    GET  app.bsky.actor.getProfile / getProfiles             GET app.bsky.feed.searchPosts / getPosts
    GET  app.bsky.notification.listNotifications             POST com.atproto.repo.createRecord

In a test::

    with FakeBluesky() as api:
        api.add_account("luminamobile.bsky.social", brand=True)   # the account Earshot logs in as
        uri = api.add_post("Lumina Mobile is down", author="ana.bsky.social")
        api.fail("GET", "/xrpc/app.bsky.feed.searchPosts", 429)   # the next such call fails
        api.malformed("GET", "/xrpc/app.bsky.feed.searchPosts")  # the next such call is not JSON
        api.gate(uri)                                            # its thread gate refuses replies
        api.revoke()                                             # every token and the app password stop working

``NetworkFake`` and ``Raw`` are shared with tests/fake_mastodon.py: a FakeAPI
(tests/fakeapi.py) whose routes, failure bodies and headers each fake defines,
and whose answers may be raw bytes (a malformed body).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs

from fakeapi import FakeAPI, _Handler, _iso

import clock

try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

HANDLE = "luminamobile.bsky.social"
APP_PASSWORD = "fake-app-pass-word"
POST = "app.bsky.feed.post"


@dataclass(frozen=True)
class Raw:
    """An answer body sent as these exact bytes (e.g. malformed JSON)."""

    data: bytes


class NetworkFake(FakeAPI):
    """A FakeAPI with its own routes, failure shapes and rate-limit headers (filled in by each fake)."""

    routes: list = []

    def start(self) -> NetworkFake:
        """Listen on 127.0.0.1 in a daemon thread."""
        handler = type("Handler", (_LoopbackHandler,), {"api": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        serve = lambda: self.server.serve_forever(poll_interval=0.05)  # noqa: E731 - quick shutdown in tests
        threading.Thread(target=serve, name=type(self).__name__, daemon=True).start()
        return self

    def malformed(self, method: str, path: str, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``path`` with 200 and a body that is not JSON."""
        self.fail(method, path, 200, body=Raw(b'{"posts": [{"uri": '), times=times)

    def handle(self, method: str, path: str, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
        """Route one request; returns (status, headers, body)."""
        path = path.rstrip("/") or "/"
        for failure in self.failures:
            if failure.method == method and path.startswith(failure.path) and failure.times > 0:
                failure.times -= 1
                extra = {**self.fail_headers(failure.status), **failure.headers}
                return (
                    failure.status,
                    extra,
                    failure.body if failure.body is not None else self.problem(failure.status),
                )
        for pattern, verb, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                status, extra, payload = handler(self, match, query, body, headers)
                return status, {**self.rate_headers(), **extra}, payload
        return 404, {}, self.problem(404)

    def fail_headers(self, status: int) -> dict:
        """Headers a real failure of this status carries."""
        return {}

    def rate_headers(self) -> dict:
        """Rate-limit headers sent with every routed answer."""
        return {}

    def problem(self, status: int) -> object:
        """The error body sent for a status."""
        return {"error": str(status)}


class _LoopbackHandler(_Handler):
    """Like fakeapi's handler, but keeps repeated query parameters as lists and can send raw bytes."""

    def _query(self, text: str) -> dict:
        """The query string; a repeated name (or one ending in []) keeps its list."""
        return {k: v if len(v) > 1 or k.endswith("[]") else v[0] for k, v in parse_qs(text).items()}

    def _record(self, method: str, path: str, query: dict, body: bytes) -> dict:
        """The request as fakeapi keeps it, with its headers."""
        return {**super()._record(method, path, query, body), "headers": dict(self.headers)}

    def _encode(self, payload: object) -> bytes:
        """Raw bytes as they are (malformed answers), anything else as JSON."""
        return payload.data if isinstance(payload, Raw) else super()._encode(payload)


def _b64(data: dict) -> str:
    """Base64url JSON without padding (a JWT segment, or a cursor)."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unb64(text: str) -> object:
    """Decode a segment made by _b64."""
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _ms(epoch: float) -> str:
    """A lexicon datetime with milliseconds."""
    return _iso(epoch)


class FakeBluesky(NetworkFake):
    """Accounts, posts, notifications and sessions of a fake PDS + AppView."""

    def __init__(self, port: int = 0):
        super().__init__(port)
        self.accounts: dict[str, dict] = {}  # did -> profile (+ _password, _brand)
        self.posts: dict[str, dict] = {}  # uri -> post view (+ _gated)
        self.notes: list[dict] = []  # notifications of the logged-in account, any order
        self.access: dict[str, str] = {}  # access token -> did
        self.refresh: dict[str, str] = {}  # refresh token -> did
        self.access_ttl = 2 * 3600  # seconds of wall-clock time (the SDK refreshes 15 minutes early)
        self.remaining = 2999
        self.created: list[dict] = []

    @staticmethod
    def env() -> dict[str, str]:
        """The login the fake accepts, as Earshot reads it."""
        return {"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": APP_PASSWORD}

    def config_replacements(self) -> dict[str, str]:
        """Replacements for conftest.write_config pointing [sources.bluesky] at this fake."""
        return {'api_base = "https://bsky.social"': f'api_base = "{self.url}"'}

    # --- data ------------------------------------------------------------------------

    def add_account(
        self, handle: str, name: str | None = None, followers: int = 10, brand: bool = False
    ) -> str:
        """Add an account (brand=True: the one Earshot logs in as); return its DID."""
        with self.lock:
            for did, profile in self.accounts.items():
                if profile["handle"] == handle:
                    return did
            did = f"did:plc:fake{self._next():06d}"
            self.accounts[did] = {
                "did": did, "handle": handle, "displayName": name or handle.split(".")[0].title(),
                "followersCount": followers, "followsCount": 3, "postsCount": 12,
                "indexedAt": _ms(self._clock), "createdAt": _ms(self._clock), "labels": [],
                "_password": APP_PASSWORD if brand else None,
            }  # fmt: skip
            return did

    def add_post(self, text: str, author: str = "someone.bsky.social", reply_to: str | None = None,
                 quote_of: str | None = None, likes: int = 0, lang: str = "en") -> str:  # fmt: skip
        """Add a post dated after every earlier one, with mention and link facets; return its at:// URI."""
        with self.lock:
            did = self.add_account(author)
            at = self._tick()
            rkey = f"3l{self._next():011d}"
            uri = f"at://{did}/{POST}/{rkey}"
            record = {
                "$type": POST,
                "text": text,
                "createdAt": _ms(at),
                "langs": [lang],
                "facets": self._facets(text),
            }
            if reply_to in self.posts:
                parent = self.posts[reply_to]
                root = parent["record"].get("reply", {}).get("root") or {
                    "uri": parent["uri"],
                    "cid": parent["cid"],
                }
                record["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            if quote_of in self.posts:
                quoted = self.posts[quote_of]
                record["embed"] = {
                    "$type": "app.bsky.embed.record",
                    "record": {"uri": quoted["uri"], "cid": quoted["cid"]},
                }
            view = {
                "uri": uri, "cid": f"bafyrei{self._counter:020d}", "author": self._basic(did), "record": record,
                "replyCount": 0, "repostCount": 0, "likeCount": likes, "quoteCount": 0,
                "indexedAt": _ms(at), "labels": [], "_gated": False,
            }  # fmt: skip
            self.posts[uri] = view
            self._notify(view, record)
            return uri

    def gate(self, uri: str) -> None:
        """Give a post a thread gate that lets no one else reply."""
        with self.lock:
            self.posts[uri]["_gated"] = True

    def revoke(self) -> None:
        """Revoke every session and the app password (as when the app password is deleted)."""
        with self.lock:
            self.access.clear()
            self.refresh.clear()
            for profile in self.accounts.values():
                profile["_password"] = None

    def expire_sessions(self) -> None:
        """Make every access token expired (as after two hours)."""
        with self.lock:
            self.access = {token: "expired:" + did for token, did in self.access.items()}

    def _facets(self, text: str) -> list[dict]:
        """Mention facets for @handles of known accounts, link facets for URLs (byte offsets)."""
        facets = []
        data = text.encode()
        for match in re.finditer(rb"@([a-z0-9.-]+\.[a-z]+)", data):
            did = self._did(match.group(1).decode())
            if did:
                facets.append(self._facet(match, {"$type": "app.bsky.richtext.facet#mention", "did": did}))
        for match in re.finditer(rb"https?://[^\s]+", data):
            facets.append(
                self._facet(match, {"$type": "app.bsky.richtext.facet#link", "uri": match.group().decode()})
            )
        return facets

    @staticmethod
    def _facet(match, feature: dict) -> dict:
        """One facet over a regex match's byte span."""
        return {"index": {"byteStart": match.start(), "byteEnd": match.end()}, "features": [feature]}

    def _did(self, handle: str) -> str | None:
        """An account's DID by handle."""
        return next((d for d, p in self.accounts.items() if p["handle"] == handle.lower()), None)

    def _basic(self, did: str) -> dict:
        """A profileViewBasic."""
        p = self.accounts[did]
        return {
            "did": did,
            "handle": p["handle"],
            "displayName": p["displayName"],
            "labels": [],
            "createdAt": p["createdAt"],
        }

    def _detailed(self, did: str) -> dict:
        """A profileViewDetailed."""
        return {k: v for k, v in self.accounts[did].items() if not k.startswith("_")}

    def _brand_did(self) -> str | None:
        """The DID of the account Earshot logs in as."""
        return self._did(HANDLE)

    def _notify(self, view: dict, record: dict) -> None:
        """Record a notification for the brand account when the post mentions, replies to or quotes it."""
        me = self._brand_did()
        if not me or view["author"]["did"] == me:
            return
        reason = None
        if any(f.get("did") == me for facet in record["facets"] for f in facet["features"]):
            reason = "mention"
        if record.get("reply", {}).get("parent", {}).get("uri", "").startswith(f"at://{me}/"):
            reason = "reply"
        if record.get("embed", {}).get("record", {}).get("uri", "").startswith(f"at://{me}/"):
            reason = "quote"
        if reason:
            self.notes.append({"uri": view["uri"], "cid": view["cid"], "author": view["author"], "reason": reason,
                               "record": record, "isRead": False, "indexedAt": view["indexedAt"], "labels": []})  # fmt: skip

    def view(self, uri: str, viewer: str | None) -> dict:
        """A postView as ``viewer`` sees it (its thread gate shows as viewer.replyDisabled)."""
        post = {k: v for k, v in self.posts[uri].items() if not k.startswith("_")}
        gated = self.posts[uri]["_gated"] and viewer != post["author"]["did"]
        return {**post, "viewer": {"replyDisabled": gated, "threadMuted": False, "embeddingDisabled": False}}

    def _session(self, did: str) -> dict:
        """A fresh session: access and refresh JWTs (wall-clock expiry, as the SDK reads it)."""
        now = int(time.time())
        access = ".".join([_b64({"alg": "ES256K", "typ": "at+jwt"}),
                           _b64({"scope": "com.atproto.access", "sub": did, "iat": now, "exp": now + self.access_ttl}),
                           _b64({"sig": self._next()})])  # fmt: skip
        refresh = ".".join([_b64({"alg": "ES256K", "typ": "refresh+jwt"}),
                            _b64({"scope": "com.atproto.refresh", "sub": did, "iat": now, "exp": now + 90 * 86400,
                                  "jti": f"r{self._counter}"}), _b64({"sig": 0})])  # fmt: skip
        self.access[access] = did
        self.refresh[refresh] = did
        handle = self.accounts[did]["handle"]
        return {"accessJwt": access, "refreshJwt": refresh, "handle": handle, "did": did, "active": True}

    # --- responses -------------------------------------------------------------------

    def rate_headers(self) -> dict:
        """Bluesky's ratelimit-* headers (reset in epoch seconds)."""
        self.remaining = max(self.remaining - 1, 0)
        reset = int(clock.now().timestamp()) + 300
        return {"ratelimit-limit": "3000", "ratelimit-remaining": str(self.remaining), "ratelimit-reset": str(reset),
                "ratelimit-policy": "3000;w=300"}  # fmt: skip

    def fail_headers(self, status: int) -> dict:
        """A 429 says when the window resets."""
        if status != 429:
            return {}
        reset = int(clock.now().timestamp()) + 600
        return {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)}

    def problem(self, status: int) -> dict:
        """An XRPC error body."""
        names = {400: "InvalidRequest", 401: "AuthenticationRequired", 429: "RateLimitExceeded",
                 500: "InternalServerError", 502: "UpstreamFailure", 503: "NotEnoughResources"}  # fmt: skip
        name = names.get(status, "InternalServerError")
        return {"error": name, "message": name}

    def caller(self, headers) -> tuple[str | None, tuple | None]:
        """The DID behind the bearer access token, or the error answer for a missing or expired one."""
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        did = self.access.get(token)
        if did is None:
            return None, (401, {}, {"error": "AuthenticationRequired", "message": "Invalid token"})
        if did.startswith("expired:"):
            return None, (400, {}, {"error": "ExpiredToken", "message": "Token has expired"})
        return did, None


def _listing(items: list[dict], query: dict, key: str) -> tuple[int, dict, object]:
    """Items newest first from the cursor on, ``limit`` of them, and a cursor when more remain."""
    items = sorted(items, key=lambda i: (i["indexedAt"], i["uri"]), reverse=True)
    if query.get("cursor"):
        try:
            after = tuple(_unb64(query["cursor"]))
        except ValueError:
            return 400, {}, {"error": "InvalidRequest", "message": "malformed cursor"}
        items = [i for i in items if (i["indexedAt"], i["uri"]) < after]
    limit = int(query.get("limit") or 25)
    page, more = items[:limit], len(items) > limit
    body = {key: page}
    if more:
        body["cursor"] = _b64([page[-1]["indexedAt"], page[-1]["uri"]])
    return 200, {}, body


def create_session(api: FakeBluesky, match, query, body: bytes, headers):
    """com.atproto.server.createSession with a handle and app password."""
    data = json.loads(body or b"{}")
    did = api._did(str(data.get("identifier", "")))
    if (
        did is None
        or not api.accounts[did]["_password"]
        or data.get("password") != api.accounts[did]["_password"]
    ):
        return 401, {}, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    return 200, {}, api._session(did)


def refresh_session(api: FakeBluesky, match, query, body: bytes, headers):
    """com.atproto.server.refreshSession with the refresh JWT (used once)."""
    token = (headers.get("Authorization") or "").removeprefix("Bearer ")
    did = api.refresh.pop(token, None)
    if did is None:
        return 400, {}, {"error": "ExpiredToken", "message": "Token has been revoked"}
    return 200, {}, api._session(did)


def resolve_handle(api: FakeBluesky, match, query, body, headers):
    """com.atproto.identity.resolveHandle."""
    did = api._did(str(query.get("handle", "")))
    if did is None:
        return 400, {}, {"error": "InvalidRequest", "message": "Unable to resolve handle"}
    return 200, {}, {"did": did}


def get_profile(api: FakeBluesky, match, query, body, headers):
    """app.bsky.actor.getProfile."""
    _, refused = api.caller(headers)
    if refused:
        return refused
    actor = str(query.get("actor", ""))
    did = actor if actor in api.accounts else api._did(actor)
    if did is None:
        return 400, {}, {"error": "InvalidRequest", "message": "Profile not found"}
    return 200, {}, api._detailed(did)


def get_profiles(api: FakeBluesky, match, query, body, headers):
    """app.bsky.actor.getProfiles (actors repeated)."""
    _, refused = api.caller(headers)
    if refused:
        return refused
    actors = query.get("actors", [])
    actors = [actors] if isinstance(actors, str) else actors
    return 200, {}, {"profiles": [api._detailed(a) for a in actors if a in api.accounts]}


def search_posts(api: FakeBluesky, match, query, body, headers):
    """app.bsky.feed.searchPosts (sort=latest): posts whose text contains the query."""
    me, refused = api.caller(headers)
    if refused:
        return refused
    term = str(query.get("q", "")).lower()
    found = [api.view(u, me) for u, p in api.posts.items() if term in p["record"]["text"].lower()]
    return _listing(found, query, "posts")


def list_notifications(api: FakeBluesky, match, query, body, headers):
    """app.bsky.notification.listNotifications, filtered by reasons."""
    _, refused = api.caller(headers)
    if refused:
        return refused
    reasons = query.get("reasons") or []
    reasons = [reasons] if isinstance(reasons, str) else reasons
    found = [n for n in api.notes if not reasons or n["reason"] in reasons]
    status, extra, page = _listing(found, query, "notifications")
    if isinstance(page, dict):
        page["seenAt"] = _ms(clock.now().timestamp())
    return status, extra, page


def get_posts(api: FakeBluesky, match, query, body, headers):
    """app.bsky.feed.getPosts (uris repeated)."""
    me, refused = api.caller(headers)
    if refused:
        return refused
    uris = query.get("uris", [])
    uris = [uris] if isinstance(uris, str) else uris
    return 200, {}, {"posts": [api.view(u, me) for u in uris if u in api.posts]}


def create_record(api: FakeBluesky, match, query, body: bytes, headers):
    """com.atproto.repo.createRecord for a post; a reply's root and parent must be right."""
    me, refused = api.caller(headers)
    if refused:
        return refused
    data = json.loads(body)
    record = data["record"]
    reply = record.get("reply")
    if reply:
        parent = api.posts.get(reply["parent"]["uri"])
        if parent is None or parent["cid"] != reply["parent"]["cid"]:
            return 400, {}, {"error": "InvalidRequest", "message": "reply parent not found"}
        root = parent["record"].get("reply", {}).get("root") or {"uri": parent["uri"], "cid": parent["cid"]}
        if {"uri": reply["root"]["uri"], "cid": reply["root"]["cid"]} != {
            "uri": root["uri"],
            "cid": root["cid"],
        }:
            return 400, {}, {"error": "InvalidRequest", "message": "reply root does not match the thread"}
    rkey = f"3m{api._next():011d}"
    uri = f"at://{me}/{data['collection']}/{rkey}"
    api.created.append({"uri": uri, "repo": data["repo"], "record": record})
    return 200, {}, {"uri": uri, "cid": f"bafyreply{api._counter:016d}", "validationStatus": "valid"}


FakeBluesky.routes = [
    (r"/xrpc/com\.atproto\.server\.createSession", "POST", create_session),
    (r"/xrpc/com\.atproto\.server\.refreshSession", "POST", refresh_session),
    (r"/xrpc/com\.atproto\.identity\.resolveHandle", "GET", resolve_handle),
    (r"/xrpc/app\.bsky\.actor\.getProfile", "GET", get_profile),
    (r"/xrpc/app\.bsky\.actor\.getProfiles", "GET", get_profiles),
    (r"/xrpc/app\.bsky\.feed\.searchPosts", "GET", search_posts),
    (r"/xrpc/app\.bsky\.feed\.getPosts", "GET", get_posts),
    (r"/xrpc/app\.bsky\.notification\.listNotifications", "GET", list_notifications),
    (r"/xrpc/com\.atproto\.repo\.createRecord", "POST", create_record),
]


if pytest is not None:

    @pytest.fixture
    def fake_bluesky():
        """A running FakeBluesky with the brand account registered."""
        with FakeBluesky() as api:
            api.add_account(HANDLE, name="Lumina Mobile", followers=40_000, brand=True)
            yield api
