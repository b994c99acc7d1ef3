"""Log in and out, the current user, CSRF and the role checks every screen relies on.

The security core is two widely used libraries: Flask-Login keeps who is logged
in and Flask-WTF's CSRFProtect checks the token of every POST. Earshot adds a
server-side record per login (what the cookie holds is that record's token, so
logging out ends the session wherever its cookie was copied), the password
stamp that ends sessions on a new password, roles and the login throttle.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
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
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup, escape

import store
import users
from web.db import get_db

bp = Blueprint("auth", __name__)
THROTTLE_MINUTES = 15
LOGIN_DAYS = 14  # a login ends after this long even without a logout
EDITOR_ROLES = ("admin", "agent")
PUBLIC_ENDPOINTS = {"auth.login", "static", "survey.form", "survey.submit"}  # the CSAT survey needs no login


class StaffUser(UserMixin):
    """A logged-in staff account and the login session it came in on, as Flask-Login sees it."""

    def __init__(self, row: dict, token: str):
        self.row, self.token = row, token

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the login session's token, not the user's id."""
        return self.token

    @property
    def is_active(self) -> bool:
        """Disabled accounts cannot log in."""
        return not self.row["disabled"]


def _digest(token: str) -> str:
    """The stored form of a session token, so the database never holds a usable one."""
    return hashlib.sha256(token.encode()).hexdigest()


def load_login(token: str) -> StaffUser | None:
    """Flask-Login's user loader: the user of a live login session, if enabled and on the same password."""
    row = store.login_session_user(get_db(), _digest(token), LOGIN_DAYS * 24 * 60)
    if row is None:
        return None
    stamp = row.pop("session_stamp")
    if row["disabled"] or stamp != users.session_stamp(row):
        return None
    return StaffUser(row, token)


def start_session(user: dict, address: str) -> None:
    """Log the user in on a fresh session, recorded on the server."""
    session.clear()  # nothing from before the login survives, its CSRF token included
    token = secrets.token_urlsafe(32)
    stamp = users.session_stamp(user)
    store.start_login_session(get_db(), _digest(token), user["id"], stamp, address, LOGIN_DAYS * 24 * 60)
    login_user(StaffUser(user, token))


def end_session() -> None:
    """End this login on the server, then forget the cookie's session."""
    if current_user.is_authenticated:
        store.end_login_session(get_db(), _digest(current_user.get_id()))
    logout_user()
    session.clear()


def load_user() -> None:
    """Put the logged-in, enabled user's row (or None) on g.user, for views and templates."""
    g.user = None if request.endpoint == "static" else getattr(current_user, "row", None)


def to_login():
    """Send a visitor without a live login to the login page, remembering where they were going."""
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_login():
    """Every page needs a login, except the login page and static files."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if g.user is None:
        return current_app.login_manager.unauthorized()
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
    start_session(user, address)
    return redirect(safe_next(request.form.get("next"), url_for("inbox.index")))


@bp.route("/logout", methods=["POST"])
@viewer_may_post
def logout():
    """End the session, on the server as well as in the browser."""
    end_session()
    flash("Logged out.", "info")
    return redirect(url_for("auth.login"))


def csrf_field() -> Markup:
    """The hidden form field carrying the session's CSRF token."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">')


def explain_csrf(error: CSRFError) -> CSRFError:
    """A refused CSRF check, in words that say what to do next."""
    error.description = (f"The form had expired or did not come from Earshot: {error.description} "
                         "Go back, reload the page and try again.")  # fmt: skip
    return error


def init_app(app: Flask) -> None:
    """Check CSRF on every POST, then load the user and enforce login and read-only roles."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a token lasts as long as its login session
    CSRFProtect(app)
    manager = LoginManager(app)
    manager.user_loader(load_login)
    manager.unauthorized_handler(to_login)
    app.before_request(load_user)
    app.before_request(require_login)
    app.jinja_env.globals.update(can_edit=can_edit, csrf_field=csrf_field)
