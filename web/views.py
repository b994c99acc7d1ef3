"""App-wide pieces: security headers, error pages, template filters and shared helpers."""

from __future__ import annotations

import json

from flask import Flask, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.routing import IntegerConverter

import clock
import collectors
import store
from web.auth import safe_next

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

MAX_ID = 2**63 - 1  # SQLite's largest INTEGER: a bigger number in a URL or form is no id at all


class IdConverter(IntegerConverter):
    """`<int:...>` URL parts within SQLite's range, so a huge number is a 404 rather than a crash."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(value: str | None) -> int | None:
    """A database id from a form or query string (ASCII digits within SQLite's range), or None."""
    if not value or not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        return None
    return int(value)


def settings():
    """The app's Settings."""
    return current_app.config["EARSHOT_SETTINGS"]




def minutes_between(start: str | None, end: str | None = None) -> float | None:
    """Minutes from `start` to `end` (default now)."""
    begin = store.parse_utc(start)
    if begin is None:
        return None
    finish = store.parse_utc(end) or clock.now()
    return (finish - begin).total_seconds() / 60


def duration(minutes: float | None) -> str:
    """Minutes as a short human duration: 45m, 3h 5m, 2d 4h."""
    if minutes is None:
        return "—"
    minutes = max(0, int(minutes))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 60 * 24:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // 1440}d {minutes % 1440 // 60}h"


def sla(mention: dict) -> dict:
    """The SLA clock for a mention: minutes, label and colour class against the target."""
    target = settings().sla.target_minutes
    if mention.get("first_response_at"):
        minutes = minutes_between(mention["created_at"], mention["first_response_at"])
        state = "met" if minutes <= target else "missed"
        return {"minutes": minutes, "label": "answered in " + duration(minutes), "state": state, "target": target}
    if mention.get("status") in ("resolved", "ignored"):
        return {"minutes": None, "label": "closed", "state": "closed", "target": target}
    minutes = minutes_between(mention["created_at"])
    state = "ok" if minutes < target / 2 else "warn" if minutes < target else "late"
    return {"minutes": minutes, "label": duration(minutes), "state": state, "target": target, "live": True}


def short_time(value: str | None) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM UTC'."""
    moment = store.parse_utc(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def compact(number: int | None) -> str:
    """A follower count as 950, 12.3k or 4.1M."""
    number = int(number or 0)
    if number < 1000:
        return str(number)
    if number < 1_000_000:
        return f"{number / 1000:.1f}k".replace(".0k", "k")
    return f"{number / 1_000_000:.1f}M".replace(".0M", "M")


def safe_url(value: str | None) -> str:
    """An http(s) link, or '' (so a stored javascript: URL can never become a link)."""
    return value if isinstance(value, str) and value.lower().startswith(("https://", "http://")) else ""


def from_json(value):
    """Decode a JSON column (already-decoded values pass through)."""
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def wants_json() -> bool:
    """Whether the caller (our own fetch) asked for JSON rather than a page."""
    return request.accept_mimetypes.best == "application/json"


def done(message: str, default: str, category: str = "info", **data):
    """Answer a POST: JSON for fetch, otherwise flash and redirect back (POST/redirect/GET)."""
    if wants_json():
        return jsonify(ok=True, message=message, **data)
    flash(message, category)
    return redirect(safe_next(request.form.get("next"), default))


def security_headers(response):
    """CSP and friends on every response; pages with data are never cached."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def error_page(error):
    """Render an HTTP error with the console's layout (JSON for fetch)."""
    if wants_json():
        return jsonify(ok=False, message=error.description), error.code
    return render_template("errors/error.html", error=error), error.code


def store_error(error: store.StoreError):
    """A refused write, explained at the edge (a busy database asks to try again)."""
    if wants_json():
        busy = isinstance(error, store.StoreBusy)
        return jsonify(ok=False, message=str(error)), 503 if busy else 409, {"Retry-After": "5"} if busy else {}
    flash(str(error), "error")
    return redirect(safe_next(request.referrer and _local(request.referrer), url_for("inbox.index")))


def _local(url: str) -> str:
    """The path and query of a same-host URL (the referrer), or ''."""
    root = request.host_url
    return "/" + url[len(root):] if url.startswith(root) else ""


def template_context() -> dict:
    """Values every template can use."""
    user = g.get("user")
    nav = [n for n in current_app.config["EARSHOT_NAV"] if user and user["role"] in n["roles"]]
    return {"nav": nav, "demo": current_app.config["EARSHOT_DEMO"], "user": user, "settings": settings(),
            "banners": banners}


def banners() -> list[dict]:
    """Messages for the top of every page, from providers added with web.add_banner."""
    if g.get("user") is None:
        return []
    return [b for provider in current_app.config["EARSHOT_BANNERS"] for b in provider()]


def init_app(app: Flask) -> None:
    """Register headers, error pages, filters and the template context."""
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.url_map.converters["int"] = IdConverter
    app.after_request(security_headers)
    for code in (400, 403, 404, 405, 409, 429):
        app.register_error_handler(code, error_page)
    app.register_error_handler(store.StoreError, store_error)
    app.context_processor(template_context)
    app.jinja_env.filters.update(
        duration=duration, short_time=short_time, safe_url=safe_url, compact=compact, from_json=from_json, sla=sla
    )
    app.jinja_env.globals["wants_json"] = wants_json
    app.jinja_env.filters["platform_label"] = collectors.label  # "bluesky" -> "Bluesky", from the registry
