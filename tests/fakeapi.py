"""A fake X and Reddit API on 127.0.0.1, for tests and for trying Earshot offline.

It serves, from data held in memory and in the real APIs' shapes, the endpoints
Earshot's collectors call:

    X       GET  /2/tweets/search/recent     GET /2/users/by     GET /2/users/<id>/mentions
            POST /2/tweets  (replies; refused with X's 403 reply restriction unless the
                             target post @mentions, quotes or replies to a brand account)
    Reddit  POST /api/v1/access_token        GET /r/<subs>/search    GET /r/<subs>/comments
            GET  /message/mentions           GET /api/user_data_by_account_ids
            POST /api/comment                GET /message/comments (replies to our comments)

A customer's follow-up to a reply Earshot posted: ``api.add_x_followup(reply_id, text)`` and
``api.add_reddit_followup(reply_fullname, text)`` (our reply then appears as a post too).

In a test::

    from fakeapi import FakeAPI, config_replacements
    from conftest import write_config

    with FakeAPI() as api:                       # a free port on 127.0.0.1
        api.seed()                               # posts for the shipped config's brands
        path = write_config(tmp_path, replace=config_replacements(api))
        monkeypatch.setattr(os, "environ", {**os.environ, **api.env()})  # or monkeypatch.setenv each
        ...                                      # collect, reply, ...
        api.replies                              # replies received, as dicts
        api.fail("GET", "/2/tweets/search/recent", 429)   # the next such call fails
        stall = api.stall("GET", "/2/tweets/search/recent", after=2)  # the third such call hangs
        stall.reached.wait(60); stall.release.set()      # ... until released, then goes unanswered

The ``fake_api`` fixture below does the ``with`` for you (import it into a test
module). Run it by hand with ``python tests/fakeapi.py --port 8765``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import clock

try:  # the fixture is optional: the module also runs without pytest
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

X_BEARER = "fake-x-bearer"
X_USER_KEYS = {"X_API_KEY": "fake-x-key", "X_API_SECRET": "fake-x-secret",
               "X_ACCESS_TOKEN": "fake-x-access", "X_ACCESS_TOKEN_SECRET": "fake-x-access-secret"}  # fmt: skip
REDDIT_CLIENT = ("fake-reddit-client", "fake-reddit-secret")
REDDIT_USER = ("LuminaMobile_Official", "fake-reddit-password")
REDDIT_USER_AGENT = "linux:earshot-tests:1.0 (by /u/LuminaMobile_Official)"
X_TWEET_FIELDS_ALWAYS = ("id", "text", "edit_history_tweet_ids")
X_USER_FIELDS_ALWAYS = ("id", "name", "username")
X_RESTRICTION = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
    "engaged by the author of the post you are replying to."
)
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def config_replacements(api: FakeAPI) -> dict[str, str]:
    """Replacements for conftest.write_config that point both sources at the fake API."""
    return {
        'api_base = ""': f'api_base = "{api.url}"',
        'oauth_url = ""': f'oauth_url = "{api.url}"',
        'reddit_url = ""': f'reddit_url = "{api.url}"',
    }


def _base36(number: int) -> str:
    """A Reddit-style base-36 id."""
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = BASE36[rest] + digits
    return digits or "0"


def _iso(epoch: float) -> str:
    """X's timestamp format."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Failure:
    """A scripted response for the next matching request(s)."""

    method: str
    path: str
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    times: int = 1


@dataclass
class Stall:
    """A request that hangs until released (then goes unanswered), to stop a client mid-run."""

    method: str
    path: str
    after: int  # matching requests answered normally before the one that hangs
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FakeAPI:
    """The fake API's data, its scripted failures, and the server thread."""

    def __init__(self, port: int = 0):
        self.port = port
        self.lock = threading.RLock()
        self.x_users: dict[str, dict] = {}
        self.tweets: dict[str, dict] = {}
        self.redditors: dict[str, dict] = {}
        self.things: dict[str, dict] = {}  # fullname -> {"kind", "data"}
        self.inbox: list[str] = []  # fullnames of username mentions
        self.mention_dest: dict[str, str] = {}  # inbox fullname -> the username it mentions
        self.replies: list[dict] = []
        self.posted: dict[str, dict] = {}  # our replies by id: become posts once someone answers them
        self.comment_replies: list[str] = []  # fullnames of comments answering our comments
        self.requests: list[dict] = []
        self.failures: list[Failure] = []
        self.stalls: list[Stall] = []
        self.omit_includes = False
        self.reddit_tokens: dict[str, str] = {}  # access token -> "app" | "user"
        self._counter = 0
        self._clock = clock.now().timestamp() - 2 * 86400
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeAPI:
        """Listen on 127.0.0.1 in a daemon thread."""
        handler = type("Handler", (_Handler,), {"api": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        serve = lambda: self.server.serve_forever(poll_interval=0.05)  # noqa: E731 - quick shutdown in tests
        threading.Thread(target=serve, name="fakeapi", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        for stall in self.stalls:
            stall.release.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @staticmethod
    def env() -> dict[str, str]:
        """Environment variables with every credential the fake accepts."""
        return {
            "X_BEARER_TOKEN": X_BEARER, **X_USER_KEYS,
            "REDDIT_CLIENT_ID": REDDIT_CLIENT[0], "REDDIT_CLIENT_SECRET": REDDIT_CLIENT[1],
            "REDDIT_USER_AGENT": REDDIT_USER_AGENT,
            "REDDIT_USERNAME": REDDIT_USER[0], "REDDIT_PASSWORD": REDDIT_USER[1],
        }  # fmt: skip

    def fail(self, method: str, path: str, status: int, body: object = None, headers: dict | None = None,
             times: int = 1) -> None:  # fmt: skip
        """Answer the next ``times`` requests to ``path`` (a prefix) with this status instead."""
        with self.lock:
            self.failures.append(Failure(method.upper(), path.rstrip("/"), status, body, headers or {}, times))

    def stall(self, method: str, path: str, after: int = 0) -> Stall:
        """Hang the request to ``path`` (a prefix) that follows ``after`` answered ones, until released."""
        with self.lock:
            self.stalls.append(Stall(method.upper(), path.rstrip("/"), after))
            return self.stalls[-1]

    def _stalled(self, method: str, path: str) -> Stall | None:
        """The stall this request falls into, if any (counting down the requests it lets by)."""
        with self.lock:
            for stall in self.stalls:
                if stall.method == method and path.startswith(stall.path) and not stall.reached.is_set():
                    if stall.after == 0:
                        stall.reached.set()
                        return stall
                    stall.after -= 1
        return None

    def calls(self, path: str) -> list[dict]:
        """The requests received for a path prefix, oldest first."""
        return [r for r in self.requests if r["path"].startswith(path)]

    def _tick(self) -> float:
        """A creation time one minute after the previous item's."""
        self._clock += 60
        return self._clock

    def _next(self) -> int:
        """A fresh sequence number."""
        self._counter += 1
        return self._counter

    # --- X data ---------------------------------------------------------------------

    def add_x_user(self, username: str, name: str | None = None, followers: int = 10, brand: bool = False,
                   verified: bool = False) -> str:  # fmt: skip
        """Add an X account (brand=True: replies to posts addressing it are allowed); return its id."""
        with self.lock:
            for user in self.x_users.values():
                if user["username"].lower() == username.lower():
                    return user["id"]
            user_id = str(1000 + self._next())
            self.x_users[user_id] = {
                "id": user_id, "username": username, "name": name or username, "verified": verified,
                "public_metrics": {"followers_count": followers, "following_count": 5, "tweet_count": 40,
                                   "listed_count": 0},
                "_brand": brand,
            }  # fmt: skip
            return user_id

    def add_tweet(self, text: str, author: str = "someone", lang: str = "en", reply_to: str | None = None,
                  quote_of: str | None = None, likes: int = 0, reposts: int = 0, replies: int = 0) -> str:  # fmt: skip
        """Add a post by ``author`` (created if new), dated after every earlier one; return its id.

        A reply's text starts with "@<parent author> ", as X's API returns it.
        """
        with self.lock:
            if reply_to in self.tweets:
                text = f"@{self.x_users[self.tweets[reply_to]['author_id']]['username']} {text}"
            author_id = self.add_x_user(author)
            tweet_id = str(1_790_000_000_000_000_000 + self._next() * 1000)
            tweet = {
                "id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id], "author_id": author_id,
                "created_at": _iso(self._tick()), "lang": lang, "conversation_id": tweet_id,
                "public_metrics": {"retweet_count": reposts, "reply_count": replies, "like_count": likes,
                                   "quote_count": 0, "bookmark_count": 0, "impression_count": likes * 20},
                "entities": self._x_entities(text, quote_of),
            }  # fmt: skip
            self._x_references(tweet, reply_to, quote_of)
            self.tweets[tweet_id] = tweet
            return tweet_id

    def _x_entities(self, text: str, quote_of: str | None) -> dict:
        """Entities as X computes them: @mentions with positions, and the quoted post's URL."""
        entities: dict = {}
        mentions = []
        for match in re.finditer(r"@(\w{1,15})", text):
            mention = {"start": match.start(), "end": match.end(), "username": match.group(1)}
            user_id = self._x_user_id(match.group(1))
            if user_id:
                mention["id"] = user_id
            mentions.append(mention)
        if mentions:
            entities["mentions"] = mentions
        if quote_of and quote_of in self.tweets:
            quoted = self.tweets[quote_of]
            handle = self.x_users[quoted["author_id"]]["username"]
            url = f"https://twitter.com/{handle}/status/{quote_of}"
            entities["urls"] = [{"start": len(text), "end": len(text) + 23, "url": "https://t.co/fakeQuote",
                                 "expanded_url": url, "display_url": f"twitter.com/{handle}/status/…"}]  # fmt: skip
        return entities

    def _x_references(self, tweet: dict, reply_to: str | None, quote_of: str | None) -> None:
        """Fill in reply and quote references."""
        refs = []
        if reply_to and reply_to in self.tweets:
            parent = self.tweets[reply_to]
            refs.append({"type": "replied_to", "id": reply_to})
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["conversation_id"] = parent["conversation_id"]
        if quote_of:
            refs.append({"type": "quoted", "id": quote_of})
        if refs:
            tweet["referenced_tweets"] = refs

    def _x_user_id(self, username: str) -> str | None:
        """An account id by username (case-insensitive)."""
        for user in self.x_users.values():
            if user["username"].lower() == username.lower():
                return user["id"]
        return None

    def _x_replyable(self, target: dict) -> bool:
        """X's rule: an API reply needs the target to mention, quote or reply to a brand account."""
        brand_ids = {u["id"] for u in self.x_users.values() if u["_brand"]}
        tagged = {m.get("id") for m in target.get("entities", {}).get("mentions", [])}
        quoted = [r["id"] for r in target.get("referenced_tweets", []) if r["type"] == "quoted"]
        quotes_brand = any(self.tweets.get(q, {}).get("author_id") in brand_ids for q in quoted)
        return bool(tagged & brand_ids) or quotes_brand or target.get("in_reply_to_user_id") in brand_ids

    def add_x_followup(self, reply_id: str, text: str, author: str = "dana_k", lang: str = "en") -> str:
        """A post by ``author`` answering a reply Earshot posted, dated now; return its id."""
        with self.lock:
            ours = self.posted[reply_id]
            if reply_id not in self.tweets:
                self.tweets[reply_id] = self._x_post(reply_id, ours["text"], ours["author_id"], ours["in_reply_to"], lang)
            text = f"@{self.x_users[ours['author_id']]['username']} {text}"
            tweet_id = str(int(reply_id) + 1000 * self._next())  # X's ids grow with time
            self.tweets[tweet_id] = self._x_post(tweet_id, text, self.add_x_user(author), reply_id, lang)
            return tweet_id

    def _x_post(self, tweet_id: str, text: str, author_id: str, reply_to: str | None, lang: str) -> dict:
        """A post dated at Earshot's clock (follow-ups happen after our replies, not in the seeded past)."""
        tweet = {
            "id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id], "author_id": author_id,
            "created_at": _iso(clock.now().timestamp()), "lang": lang, "conversation_id": tweet_id,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                               "bookmark_count": 0, "impression_count": 0},
            "entities": self._x_entities(text, None),
        }  # fmt: skip
        self._x_references(tweet, reply_to, None)
        return tweet

    # --- Reddit data ----------------------------------------------------------------

    def add_redditor(self, name: str, link_karma: int = 10, comment_karma: int = 20) -> str:
        """Add a Reddit account (or return the existing one's fullname)."""
        with self.lock:
            for fullname, user in self.redditors.items():
                if user["name"].lower() == name.lower():
                    return fullname
            fullname = f"t2_{_base36(50_000 + self._next())}"
            self.redditors[fullname] = {"name": name, "link_karma": link_karma, "comment_karma": comment_karma,
                                        "created_utc": 1_500_000_000.0, "profile_img": "", "profile_color": "",
                                        "profile_over_18": False}  # fmt: skip
            return fullname

    def add_submission(self, title: str, selftext: str = "", subreddit: str = "smartphones", author: str = "redditor",
                       score: int = 1, num_comments: int = 0, locked: bool = False) -> str:  # fmt: skip
        """Add a post (t3), dated after every earlier item; return its fullname."""
        with self.lock:
            short = _base36(3_000_000 + self._next())
            data = {
                **self._reddit_common(short, "t3", subreddit, author, score),
                "title": title, "selftext": selftext, "num_comments": num_comments, "num_crossposts": 0,
                "permalink": f"/r/{subreddit}/comments/{short}/{_slug(title)}/", "locked": locked,
                "url": f"https://www.reddit.com/r/{subreddit}/comments/{short}/{_slug(title)}/", "is_self": True,
                "over_18": False, "domain": f"self.{subreddit}", "selftext_html": None,
            }  # fmt: skip
            self.things[data["name"]] = {"kind": "t3", "data": data}
            return data["name"]

    def add_comment(self, body: str, link: str, parent: str | None = None, author: str = "commenter",
                    score: int = 1) -> str:  # fmt: skip
        """Add a comment (t1) under a submission's fullname; return its fullname."""
        with self.lock:
            post = self.things[link]["data"]
            short = _base36(9_000_000 + self._next())
            data = {
                **self._reddit_common(short, "t1", post["subreddit"], author, score),
                "body": body, "link_id": link, "parent_id": parent or link, "link_title": post["title"],
                "permalink": f"{post['permalink']}{short}/", "link_permalink": post["url"],
                "body_html": None, "is_submitter": False, "replies": "",
            }  # fmt: skip
            self.things[data["name"]] = {"kind": "t1", "data": data}
            return data["name"]

    def add_mention(self, body: str, to: str = REDDIT_USER[0], author: str = "mentioner") -> str:
        """Add a comment that u/-mentions ``to`` and put it in the inbox; return its fullname."""
        with self.lock:
            link = self.add_submission(f"Thread where {author} mentions someone", author="op")
            fullname = self.add_comment(body, link, author=author)
            self.inbox.append(fullname)
            self.mention_dest[fullname] = to
            return fullname

    def add_reddit_followup(self, reply: str, body: str, author: str = "angry_traveller") -> str:
        """A comment by ``author`` answering a comment Earshot posted, dated now; return its fullname."""
        with self.lock:
            if reply not in self.things:
                self.things[reply] = {"kind": "t1", "data": {**self.posted[reply], "author_fullname": self.add_redditor(REDDIT_USER[0])}}
            link = self.things[reply]["data"]["link_id"]
            fullname = self.add_comment(body, link, parent=reply, author=author)
            self.things[fullname]["data"]["created_utc"] = clock.now().timestamp()
            self.comment_replies.append(fullname)
            return fullname

    def _reddit_common(self, short: str, kind: str, subreddit: str, author: str, score: int) -> dict:
        """Fields every Reddit listing item carries."""
        author_fullname = self.add_redditor(author)
        created = self._tick()
        return {
            "id": short, "name": f"{kind}_{short}", "subreddit": subreddit,
            "subreddit_name_prefixed": f"r/{subreddit}", "subreddit_id": "t5_2qh1e", "author": author,
            "author_fullname": author_fullname, "created_utc": created, "created": created, "score": score,
            "ups": score, "downs": 0, "archived": False, "locked": False, "stickied": False,
            "distinguished": None, "edited": False, "gilded": 0, "likes": None, "saved": False,
        }  # fmt: skip

    # --- seed data -----------------------------------------------------------------------

    def seed(self) -> None:
        """A small, varied dataset for the shipped config's brands (Lumina Mobile, Parcelo, Voltel)."""
        for handle in ("LuminaMobile", "LuminaHelp", "ParceloHQ", "ParceloCares", "Voltel"):
            self.add_x_user(handle, followers=50_000, brand=True, verified=True)
        self.add_x_user("dana_k", "Dana K", followers=12_400)
        self.add_x_user("mo_travels", "Mo", followers=380)
        brand_post = self.add_tweet("Our new unlimited plan is live today!", author="LuminaMobile", likes=120)
        self.add_tweet("@LuminaMobile my bill doubled this month and nobody answers the chat. Fix this now",
                       author="dana_k", likes=14, replies=3)  # fmt: skip
        self.add_tweet("Switched to Lumina Mobile last week, coverage on the train is great", author="mo_travels")
        self.add_tweet("@ParceloHQ parcel 4471 says delivered but it is not here. Where is it?", author="dana_k")
        self.add_tweet("Parcelo driver left my package in the rain again", author="mo_travels", likes=3)
        self.add_tweet("Does the plan include roaming in Spain?", author="mo_travels", reply_to=brand_post)
        self.add_tweet("Voltel outage again in the north?", author="dana_k")
        self.add_tweet("@LuminaHelp gracias por la ayuda con mi SIM, todo funciona ahora", author="mo_travels",
                       lang="es")  # fmt: skip
        post = self.add_submission("Lumina Mobile roaming charges are a scam", "Charged 40 EUR for one day.",
                                   subreddit="smartphones", author="angry_traveller", num_comments=2)  # fmt: skip
        self.add_comment("Same with Lumina Mobile for me, support refunded it after a week", post)
        self.add_submission("Parcelo lost my parcel, any tips?", "Tracking stuck for 6 days.",
                            subreddit="mildlyinfuriating", author="parcel_less")  # fmt: skip
        self.add_submission("Is Voltel fibre any good?", "", subreddit="HomeNetworking", author="curious_cat")
        self.add_mention("Hey u/LuminaMobile_Official, my eSIM activation has been pending for 3 days")

    # --- responses (called by the handler, under the lock) --------------------------------

    def handle(self, method: str, path: str, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
        """Route one request; returns (status, headers, JSON body)."""
        path = path.rstrip("/") or "/"
        scripted = self._scripted(method, path)
        if scripted:
            return scripted
        for pattern, verb, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return handler(self, match, query, body, headers)
        return 404, {}, {"error": 404, "message": "Not Found"}

    def _scripted(self, method: str, path: str) -> tuple[int, dict, object] | None:
        """The first scripted failure matching this request, used up once."""
        for failure in self.failures:
            if failure.method == method and path.startswith(failure.path) and failure.times > 0:
                failure.times -= 1
                reddit = not path.startswith("/2/")
                headers = {**_default_fail_headers(failure.status, reddit), **failure.headers}
                return failure.status, headers, failure.body if failure.body is not None else _problem(failure.status, reddit)
        return None


def _slug(title: str) -> str:
    """Reddit's URL slug for a title."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50]


def _default_fail_headers(status: int, reddit: bool) -> dict:
    """Headers a real failure of this status would carry."""
    if status != 429:
        return {}
    if reddit:
        return {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "120"}
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.now().timestamp()) + 600)}


def _problem(status: int, reddit: bool) -> dict:
    """The error body the platform sends for a status."""
    if reddit:
        return {"message": {429: "Too Many Requests", 401: "Unauthorized"}.get(status, "Error"), "error": status}
    titles = {429: "Too Many Requests", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable",
              500: "Internal Server Error", 400: "Invalid Request"}  # fmt: skip
    title = titles.get(status, "Error")
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


# --- X endpoints -------------------------------------------------------------------------


def _x_auth(api: FakeAPI, headers) -> tuple[int, dict, object] | None:
    """401 unless the bearer token is the fake's."""
    if headers.get("Authorization") != f"Bearer {X_BEARER}":
        return 401, {}, _problem(401, False)
    return None


def _x_headers(api: FakeAPI) -> dict:
    """X's rate-limit headers."""
    return {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "440", "x-rate-limit-reset": str(int(clock.now().timestamp()) + 900)}


def _x_fields(query: dict, name: str, always: tuple[str, ...]) -> set[str]:
    """The fields a request asked for, plus those X always sends."""
    return set(always) | set(query.get(name, "").split(",")) - {""}


def _x_listing(api: FakeAPI, tweets: list[dict], query: dict, token_name: str, lowest: int) -> tuple[int, dict, object]:
    """A page of posts, newest first, honouring since_id, until_id, max_results and the page token."""
    try:
        size = int(query.get("max_results", "10"))
    except ValueError:
        size = 0
    if not lowest <= size <= 100:
        detail = f"The `max_results` query parameter value [{query.get('max_results')}] is not between {lowest} and 100"
        return 400, {}, {"errors": [{"parameters": {"max_results": [query.get("max_results")]}, "message": detail}],
                         "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                         "type": "https://api.twitter.com/2/problems/invalid-request"}  # fmt: skip
    since, until = int(query.get("since_id", 0)), int(query.get("until_id", 10**20))
    token = query.get(token_name)
    below = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 10**20
    chosen = sorted((t for t in tweets if since < int(t["id"]) < min(until, below)), key=lambda t: -int(t["id"]))
    page, more = chosen[:size], len(chosen) > size
    if not page:
        return 200, _x_headers(api), {"meta": {"result_count": 0}}
    fields = _x_fields(query, "tweet.fields", X_TWEET_FIELDS_ALWAYS)
    body: dict = {"data": [{k: v for k, v in t.items() if k in fields} for t in page]}
    if "author_id" in query.get("expansions", "") and not api.omit_includes:
        user_fields = _x_fields(query, "user.fields", X_USER_FIELDS_ALWAYS)
        authors = {t["author_id"]: api.x_users[t["author_id"]] for t in page}
        body["includes"] = {"users": [{k: v for k, v in u.items() if k in user_fields} for u in authors.values()]}
    meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
    if more:
        meta["next_token"] = base64.urlsafe_b64encode(page[-1]["id"].encode()).decode()
    body["meta"] = meta
    return 200, _x_headers(api), body


def _x_terms(query: str) -> list[str]:
    """The words and phrases of an X search query (operators dropped)."""
    phrases = re.findall(r'"([^"]+)"', query)
    rest = re.sub(r'"[^"]+"', " ", query)
    words = [w.strip("()") for w in rest.split() if not re.match(r"^-|\w+:|OR$|AND$", w.strip("()"))]
    return [t.lower() for t in phrases + words if t.strip("()")]


def x_search(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /2/tweets/search/recent."""
    if refused := _x_auth(api, headers):
        return refused
    answering = set(re.findall(r"in_reply_to_tweet_id:(\d+)", query.get("query", "")))
    if answering:
        found = [t for t in api.tweets.values() if {r["id"] for r in t.get("referenced_tweets", []) if r["type"] == "replied_to"} & answering]
        return _x_listing(api, found, query, "next_token", 10)
    terms = _x_terms(query.get("query", ""))
    found = [t for t in api.tweets.values() if any(term in t["text"].lower() for term in terms)]
    return _x_listing(api, found, query, "next_token", 10)


def x_users_by(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /2/users/by?usernames=..."""
    if refused := _x_auth(api, headers):
        return refused
    names = [n for n in query.get("usernames", "").split(",") if n]
    fields = _x_fields(query, "user.fields", X_USER_FIELDS_ALWAYS)
    data, errors = [], []
    for name in names:
        user_id = api._x_user_id(name)
        if user_id:
            data.append({k: v for k, v in api.x_users[user_id].items() if k in fields})
        else:
            errors.append({"value": name, "detail": f"Could not find user with usernames: [{name}].",
                           "title": "Not Found Error", "resource_type": "user", "parameter": "usernames",
                           "resource_id": name, "type": "https://api.twitter.com/2/problems/resource-not-found"})  # fmt: skip
    result: dict = {"data": data} if data else {}
    if errors:
        result["errors"] = errors
    return 200, _x_headers(api), result


def x_mentions(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /2/users/<id>/mentions."""
    if refused := _x_auth(api, headers):
        return refused
    user = api.x_users.get(match.group(1))
    if user is None:
        return 200, _x_headers(api), {"errors": [{"detail": "Could not find user", "title": "Not Found Error"}]}
    name = user["username"].lower()
    found = [t for t in api.tweets.values()
             if any(m["username"].lower() == name for m in t.get("entities", {}).get("mentions", []))]  # fmt: skip
    return _x_listing(api, found, query, "pagination_token", 5)


def x_create_tweet(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """POST /2/tweets: record a reply, or refuse it as X would."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("OAuth ") or f'oauth_consumer_key="{X_USER_KEYS["X_API_KEY"]}"' not in auth:
        return 401, {}, _problem(401, False)
    payload = json.loads(body or b"{}")
    target_id = str((payload.get("reply") or {}).get("in_reply_to_tweet_id", ""))
    target = api.tweets.get(target_id)
    if target is None:
        return 400, {}, {"title": "Invalid Request", "detail": "The post you are replying to does not exist.",
                         "type": "https://api.twitter.com/2/problems/invalid-request", "status": 400}  # fmt: skip
    if not api._x_replyable(target):
        return 403, {}, {"detail": X_RESTRICTION, "type": "about:blank", "title": "Forbidden", "status": 403}
    new_id = str(1_890_000_000_000_000_000 + api._next())
    api.replies.append({"platform": "x", "in_reply_to": target_id, "text": payload.get("text"), "id": new_id})
    brand = next((m["id"] for m in target.get("entities", {}).get("mentions", []) if api.x_users.get(m.get("id"), {}).get("_brand")),
                 target.get("in_reply_to_user_id"))  # fmt: skip
    api.posted[new_id] = {"text": payload.get("text") or "", "author_id": brand, "in_reply_to": target_id}
    return 201, _x_headers(api), {"data": {"id": new_id, "text": payload.get("text"), "edit_history_tweet_ids": [new_id]}}


# --- Reddit endpoints -----------------------------------------------------------------------


def _reddit_headers() -> dict:
    """Reddit's rate-limit headers (a fresh window: praw never needs to pause)."""
    return {"x-ratelimit-remaining": "590.0", "x-ratelimit-used": "10", "x-ratelimit-reset": "300"}


def _reddit_auth(api: FakeAPI, headers, user: bool = False) -> tuple[int, dict, object] | None:
    """401 unless the bearer token was issued by the fake (403 when a user token is needed)."""
    token = headers.get("Authorization", "").removeprefix("bearer ").removeprefix("Bearer ")
    grant = api.reddit_tokens.get(token)
    if grant is None:
        return 401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}, {"message": "Unauthorized", "error": 401}
    if user and grant != "user":
        return 403, {}, {"message": "Forbidden", "error": 403}
    return None


def reddit_token(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """POST /api/v1/access_token: client credentials, password or refresh-token grants."""
    expected = "Basic " + base64.b64encode(f"{REDDIT_CLIENT[0]}:{REDDIT_CLIENT[1]}".encode()).decode()
    if headers.get("Authorization") != expected:
        return 401, {}, {"message": "Unauthorized", "error": 401}
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    grant = form.get("grant_type")
    if grant == "password" and (form.get("username"), form.get("password")) != REDDIT_USER:
        return 200, {}, {"error": "invalid_grant"}
    if grant not in ("client_credentials", "password", "refresh_token"):
        return 200, {}, {"error": "unsupported_grant_type"}
    token = f"fake-token-{api._next()}"
    api.reddit_tokens[token] = "app" if grant == "client_credentials" else "user"
    return 200, {}, {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": "*"}


def _reddit_listing(items: list[dict], query: dict) -> tuple[int, dict, object]:
    """A Listing, newest first, from ``after``, ``limit`` items long."""
    items = sorted(items, key=lambda t: -t["data"]["created_utc"])
    after = query.get("after")
    if after:
        names = [t["data"]["name"] for t in items]
        items = items[names.index(after) + 1 :] if after in names else []
    limit = min(int(query.get("limit", "25")), 100)
    page, more = items[:limit], len(items) > limit
    data = {"after": page[-1]["data"]["name"] if more and page else None, "dist": len(page), "modhash": None,
            "geo_filter": "", "children": [{"kind": t["kind"], "data": t["data"]} for t in page], "before": None}  # fmt: skip
    return 200, _reddit_headers(), {"kind": "Listing", "data": data}


def _in_subs(thing: dict, subs: str) -> bool:
    """Whether an item is in one of a '+'-joined list of subreddits ('all' is everything)."""
    names = {s.lower() for s in subs.split("+")}
    return "all" in names or thing["data"]["subreddit"].lower() in names


def reddit_search(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /r/<subs>/search (posts only, as Reddit's search API)."""
    if refused := _reddit_auth(api, headers):
        return refused
    term = query.get("q", "").strip('"').lower()
    found = [t for t in api.things.values() if t["kind"] == "t3" and _in_subs(t, match.group(1))
             and term in (t["data"]["title"] + " " + t["data"]["selftext"]).lower()]  # fmt: skip
    return _reddit_listing(found, query)


def reddit_comments(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /r/<subs>/comments: the newest comments."""
    if refused := _reddit_auth(api, headers):
        return refused
    found = [t for t in api.things.values() if t["kind"] == "t1" and _in_subs(t, match.group(1))]
    return _reddit_listing(found, query)


def _inbox_listing(api: FakeAPI, fullnames: list[str], kind: str, dest, query: dict) -> tuple[int, dict, object]:
    """Inbox items of one ``kind`` (as the inbox lists comments: context instead of permalink)."""
    items = []
    for fullname in fullnames:
        data = dict(api.things[fullname]["data"])
        context = data.pop("permalink") + "?context=3"
        data.update(type=kind, subject=kind.replace("_", " "), was_comment=True, new=True, dest=dest(fullname),
                    context=context)  # fmt: skip
        items.append({"kind": "t1", "data": data})
    return _reddit_listing(items, query)


def reddit_mentions(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /message/mentions: username mentions in the user's inbox."""
    if refused := _reddit_auth(api, headers, user=True):
        return refused
    return _inbox_listing(api, api.inbox, "username_mention", api.mention_dest.get, query)


def reddit_comment_replies(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /message/comments: replies to the user's comments, in the user's inbox."""
    if refused := _reddit_auth(api, headers, user=True):
        return refused
    return _inbox_listing(api, api.comment_replies, "comment_reply", lambda _: REDDIT_USER[0], query)


def reddit_user_data(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """GET /api/user_data_by_account_ids: karma by account fullname."""
    if refused := _reddit_auth(api, headers):
        return refused
    wanted = [i for i in query.get("ids", "").split(",") if i in api.redditors]
    return 200, _reddit_headers(), {i: api.redditors[i] for i in wanted}


def reddit_comment(api: FakeAPI, match, query: dict, body: bytes, headers) -> tuple[int, dict, object]:
    """POST /api/comment: record a reply and return the new comment as Reddit does."""
    if refused := _reddit_auth(api, headers, user=True):
        return refused
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    target = api.things.get(form.get("thing_id", ""))
    if target is None:
        return 200, _reddit_headers(), {"json": {"errors": [["NO_THING_ID", "that thing does not exist", "parent"]]}}
    if target["data"].get("locked"):
        return 200, _reddit_headers(), {"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}}
    link = target["data"]["name"] if target["kind"] == "t3" else target["data"]["link_id"]
    short = _base36(20_000_000 + api._next())
    post = api.things[link]["data"]
    data = {"id": short, "name": f"t1_{short}", "body": form.get("text"), "parent_id": target["data"]["name"],
            "link_id": link, "author": REDDIT_USER[0], "subreddit": post["subreddit"],
            "permalink": f"{post['permalink']}{short}/", "created_utc": clock.now().timestamp(), "score": 1, "replies": ""}  # fmt: skip
    api.replies.append({"platform": "reddit", "in_reply_to": target["data"]["name"], "text": form.get("text"),
                        "id": data["name"]})  # fmt: skip
    api.posted[data["name"]] = dict(data)
    return 200, _reddit_headers(), {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}}


ROUTES = [
    (r"/2/tweets/search/recent", "GET", x_search),
    (r"/2/users/by", "GET", x_users_by),
    (r"/2/users/(\d+)/mentions", "GET", x_mentions),
    (r"/2/tweets", "POST", x_create_tweet),
    (r"/api/v1/access_token", "POST", reddit_token),
    (r"/r/([\w+]+)/search", "GET", reddit_search),
    (r"/r/([\w+]+)/comments", "GET", reddit_comments),
    (r"/message/mentions", "GET", reddit_mentions),
    (r"/message/comments", "GET", reddit_comment_replies),
    (r"/api/user_data_by_account_ids", "GET", reddit_user_data),
    (r"/api/comment", "POST", reddit_comment),
]


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into FakeAPI.handle calls."""

    api: FakeAPI
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        """Read the request, route it, and write the JSON answer."""
        parts = urlsplit(self.path)
        query = self._query(parts.query)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        stall = self.api._stalled(method, parts.path)
        if stall:
            stall.release.wait(120)
            self.close_connection = True
            return
        with self.api.lock:
            self.api.requests.append(self._record(method, parts.path, query, body))
            status, headers, payload = self.api.handle(method, parts.path, query, body, self.headers)
        data = self._encode(payload)
        self.send_response(status)
        if self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")  # say so, or the client reuses a dead socket
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _query(self, text: str) -> dict:
        """The query string, one value per name."""
        return {k: v[0] for k, v in parse_qs(text).items()}

    def _record(self, method: str, path: str, query: dict, body: bytes) -> dict:
        """What FakeAPI.requests keeps of one request."""
        return {"method": method, "path": path, "query": query, "body": body}

    def _encode(self, payload: object) -> bytes:
        """The answer's body."""
        return json.dumps(payload).encode()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Serve a GET."""
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        """Serve a POST."""
        self._serve("POST")

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        """Stay quiet: requests are kept in FakeAPI.requests instead."""


if pytest is not None:

    @pytest.fixture
    def fake_api():
        """A running FakeAPI with no data; call .seed() for the demo set."""
        with FakeAPI() as api:
            yield api


def main() -> None:
    """Serve the seeded fake API until interrupted: python tests/fakeapi.py [--port N]."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    api = FakeAPI(args.port).start()
    api.seed()
    print(f"Fake X + Reddit API on {api.url}; credentials: {json.dumps(api.env())}")  # noqa: T201 - a CLI
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
