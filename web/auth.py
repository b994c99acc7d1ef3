"""Log in and out, the current user, and the role checks every screen relies on."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

import store
import users
from web import csrf
from web.db import get_db

bp = Blueprint("auth", __name__)
THROTTLE_MINUTES = 15
EDITOR_ROLES = ("admin", "agent")
PUBLIC_ENDPOINTS = {"auth.login", "static"}


def load_user() -> None:
    """Put the logged-in, enabled user (or None) on g.user."""
    username = session.get("username")
    if request.endpoint == "static":
        g.user = None
        return
    user = store.get_user(get_db(), username) if username else None
    current = user and not user["disabled"] and session.get("stamp") == users.session_stamp(user)
    g.user = user if current else None


def require_login():
    """Every page needs a login, except the login page and static files."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if g.user is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if request.method == "POST" and not can_edit() and not _viewer_may_post():
        abort(403, description="Your account is read-only: viewers cannot change anything.")
    return None


def _viewer_may_post() -> bool:
    """Whether the view is marked safe for read-only users (e.g. log out)."""
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, "viewer_may_post", False))


def can_edit() -> bool:
    """Whether the current user may change things (admins and agents)."""
    return g.get("user") is not None and g.user["role"] in EDITOR_ROLES


def role_required(*roles: str):
    """Decorate a view so only these roles may use it (403 otherwise)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.user is None or g.user["role"] not in roles:
                abort(403, description="Your role does not allow this.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


editor_required = role_required(*EDITOR_ROLES)
admin_required = role_required("admin")


def viewer_may_post(view):
    """Mark a POST view as harmless for read-only users."""
    view.viewer_may_post = True
    return view


def safe_next(target: str | None, default: str) -> str:
    """A local redirect target; anything pointing off-site falls back to `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password, with throttling."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    db = get_db()
    console = current_app.config["EARSHOT_SETTINGS"].console
    if (
        store.failed_logins(db, username, address, THROTTLE_MINUTES) >= console.max_failed_logins
        or store.failed_logins_from(db, address, THROTTLE_MINUTES) >= console.max_failed_logins_per_address
    ):
        flash(f"Too many failed logins. Wait {THROTTLE_MINUTES} minutes and try again.", "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 429
    user = users.verify(db, username, password)
    if user is None:
        store.record_failed_login(db, username, address)
        flash("Wrong username or password.", "error")
        return render_template("auth/login.html", next=request.form.get("next", "")), 401
    store.clear_failed_logins(db, username, address)
    session.clear()
    session["username"] = user["username"]
    session["stamp"] = users.session_stamp(user)
    csrf.rotate()
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index")))


@bp.route("/logout", methods=["POST"])
@viewer_may_post
def logout():
    """Forget the session."""
    session.clear()
    flash("Logged out.", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Load the user and enforce login and read-only roles on every request."""
    app.before_request(load_user)
    app.before_request(require_login)
    app.jinja_env.globals["can_edit"] = can_edit
