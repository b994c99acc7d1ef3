"""Helpers for the console's tests: staff accounts, seeded mentions and a live server thread."""

from __future__ import annotations

import functools
import os
import re
import threading
from datetime import timedelta
from pathlib import Path

from werkzeug.security import generate_password_hash
from werkzeug.serving import WSGIRequestHandler, make_server

import clock
import formats
import store

PASSWORD = "correct-horse-battery"
CHROMIUM = "/usr/bin/chromium"
# Where the browser tests save their screenshots. `make screenshots` points it at docs/
# to refresh the README's pictures; otherwise they land in the ignored bench/out/, so
# `make test` leaves the checkout clean.
SCREENSHOTS_ENV = "EARSHOT_SCREENSHOTS"
DEFAULT_SCREENSHOTS = Path(__file__).resolve().parent.parent / "bench" / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def screenshot_folder() -> Path:
    """$EARSHOT_SCREENSHOTS, or bench/out/screenshots (ignored by git)."""
    return Path(os.environ.get(SCREENSHOTS_ENV) or DEFAULT_SCREENSHOTS)


def ago(minutes: float) -> str:
    """A UTC ISO-8601 time `minutes` ago."""
    return (clock.now() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed once per test session (hashing is deliberately slow)."""
    return generate_password_hash(PASSWORD)


def add_users(db) -> None:
    """admin, agents sam and alex, viewer pat; all share PASSWORD."""
    for username, role, name in (("admin", "admin", "Admin"), ("sam", "agent", "Sam"),
                                 ("alex", "agent", "Alex"), ("pat", "viewer", "Pat")):  # fmt: skip
        store.add_user(db, username, _password_hash(), role, name)


def add_mention(db, settings, text: str, *, urgency: float | None = 50.0, sentiment: str = "negative",
                minutes_ago: float = 30, low_confidence: bool = False, **fields) -> int:  # fmt: skip
    """Store one mention through formats.to_mention + store.upsert_mentions, then score it; return its id."""
    record = {"text": text, "brand": "Lumina Mobile", "platform": "x", "author": "casey",
              "created_at": ago(minutes_ago), "language": "en", **fields}  # fmt: skip
    record.setdefault("id", str(abs(hash((text, record["author"], minutes_ago))) % 10**15))
    row = formats.to_mention(record, settings)
    with db.atomic():
        store.upsert_mentions(db, [row])
    mention_id = store.mention_id(db, row["platform"], row["external_id"])
    if urgency is not None:
        store.save_scores(db, [{
            "id": mention_id, "sentiment": sentiment, "sentiment_model": "test-model",
            "sentiment_scores": {"negative": 0.8 if sentiment == "negative" else 0.1, "neutral": 0.1,
                                 "positive": 0.8 if sentiment == "positive" else 0.1},
            "sentiment_low_confidence": low_confidence, "urgency": urgency,
            "urgency_parts": {"negativity": round(urgency * 0.3, 1), "intent": round(urgency * 0.3, 1),
                              "directness": round(urgency * 0.12, 1), "reach": round(urgency * 0.12, 1),
                              "engagement": round(urgency * 0.06, 1), "waiting": round(urgency * 0.1, 1),
                              "spam": 0.0},
            "intents": ["billing"],
        }])  # fmt: skip
    return mention_id


def live_console(db, settings, username: str = "sam"):
    """A test client of a non-demo console (replies really go out), logged in as ``username``."""
    from web import create_app

    add_users(db)
    client = create_app(settings, secret_key="k", demo=False, testing=True).test_client()
    login(client, username)
    return client


def csrf_from(html: str) -> str:
    """The CSRF token from a rendered page."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log a Flask test client in; return the response."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page)})


class _QuietHandler(WSGIRequestHandler):
    """A request handler that doesn't log every request into the test output."""

    def log_request(self, *args, **kwargs) -> None:
        """Skip the access log."""


class LiveServer:
    """A WSGI app served on 127.0.0.1:<free port> from a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(5)
