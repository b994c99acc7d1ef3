"""CSRF protection: a per-session token checked on every POST (form field or header)."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def token() -> str:
    """The session's CSRF token, created on first use."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def field() -> Markup:
    """The hidden form field carrying the token."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(token())}">')


def rotate() -> None:
    """Issue a fresh token (at login, so a pre-login token can't be reused)."""
    session[FIELD] = secrets.token_urlsafe(32)


def check() -> None:
    """Refuse unsafe requests whose token is missing or wrong."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    expected = session.get(FIELD) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form had expired or did not come from Earshot (CSRF check failed). "
                               "Go back, reload the page and try again.")


def init_app(app: Flask) -> None:
    """Check every request and expose csrf_token() to templates."""
    app.before_request(check)
    app.jinja_env.globals.update(csrf_token=token, csrf_field=field)
