"""One database connection per request, closed on teardown (flaskr's get_db)."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app, g

import store


def get_db():
    """The request's database connection, opened on first use."""
    if "db" not in g:
        g.db = store.connect(current_app.config["EARSHOT_SETTINGS"].database, migrate=False)
    return g.db


def connector():
    """A function that opens another connection to the request's database, for reads in other threads."""
    return partial(store.connect, current_app.config["EARSHOT_SETTINGS"].database, migrate=False)


def close_db(exc: BaseException | None = None) -> None:
    """Close the request's connection, if one was opened."""
    database = g.pop("db", None)
    if database is not None:
        database.close()


def init_app(app: Flask) -> None:
    """Register the teardown."""
    app.teardown_appcontext(close_db)
