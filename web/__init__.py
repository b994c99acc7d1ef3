"""The Earshot console: `create_app(settings)` builds the Flask app, one blueprint per screen."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

import store
from settings import Settings
from web import auth, compose, dashboard, db, inbox, mention, sources, survey, thanks, views
from web import models as models_screen

# One entry per screen: (blueprint, nav label or None, endpoint the nav links to).
# A new screen (e.g. a dashboard) adds its blueprint here and appears in the nav.
SCREENS = (
    (inbox.bp, "Inbox", "inbox.index"),
    (thanks.bp, "Thank them", "thanks.index"),
    (sources.bp, "Sources", "sources.index"),
    (dashboard.bp, "Dashboard", "dashboard.index"),
    (mention.bp, None, None),
    (compose.bp, None, None),
    (models_screen.bp, None, None),
    (survey.bp, None, None),
    (auth.bp, None, None),
)


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies that are Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure if configured, or if this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def create_app(settings: Settings, *, secret_key: str, demo: bool = False, testing: bool = False,
               trusted_proxies: int = 0) -> Flask:  # fmt: skip
    """Build the console app.

    `trusted_proxies` is how many reverse proxies sit in front of the app; only
    then are their X-Forwarded-Proto/For/Host headers believed (werkzeug's ProxyFix).
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="earshot_session",
        EARSHOT_SETTINGS=settings,
        EARSHOT_DEMO=demo,
        EARSHOT_NAV=[],
        EARSHOT_BANNERS=[],
    )
    app.session_interface = _SessionInterface()
    if trusted_proxies:
        hops = trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    store.connect(settings.database).close()  # apply migrations once, not per request
    db.init_app(app)
    auth.init_app(app)
    views.init_app(app)
    app.register_error_handler(CSRFError, lambda error: views.error_page(auth.explain_csrf(error)))
    for blueprint, label, endpoint in SCREENS:
        app.register_blueprint(blueprint)
        if label:
            add_nav(app, label, endpoint)
    add_banner(app, dashboard.alert_banners)
    return app


def add_nav(app: Flask, label: str, endpoint: str, roles: tuple[str, ...] = store.ROLES) -> None:
    """Add a link to the console's top navigation, shown to the given roles."""
    app.config["EARSHOT_NAV"].append({"label": label, "endpoint": endpoint, "roles": roles})


def add_banner(app: Flask, provider) -> None:
    """Show messages on every page: `provider()` returns dicts with text, level, url, link."""
    app.config["EARSHOT_BANNERS"].append(provider)
