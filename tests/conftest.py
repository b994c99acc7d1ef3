"""Shared fixtures: a temporary config and database, the app, a CLI runner, and no internet."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import clock
import settings as settings_mod
import store
import store.postgres

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config.toml"


def _is_loopback(host) -> bool:
    """Whether an address or host name stays on this machine."""
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkBlocked(RuntimeError):
    """A test tried to reach beyond loopback."""


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Refuse every connection that is not to loopback or a Unix socket."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise NetworkBlocked(f"tests may not connect to {address!r}")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            raise NetworkBlocked(f"tests may not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# Every test runs on a clock that starts at a fixed instant, never the wall
# clock, so no result depends on the hour it runs at. EARSHOT_TEST_NOW moves
# that instant (tests/test_clock.py runs the time-sensitive tests at several).
TEST_NOW = os.environ.get("EARSHOT_TEST_NOW", "2026-11-18T10:30:00Z")


@pytest.fixture(autouse=True, scope="session")
def _fixed_clock_for_setup():
    """Start the clock at TEST_NOW before module and session fixtures set anything up."""
    os.environ[clock.ENV] = TEST_NOW
    clock.start_at(TEST_NOW)
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Start Earshot's clock, in this process and in the processes a test starts, at TEST_NOW."""
    monkeypatch.setenv(clock.ENV, TEST_NOW)
    clock.start_at(TEST_NOW)
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Start every test with no API credentials and no secret key from the developer's shell."""
    for name in (
        "X_BEARER_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET",
        "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT", "REDDIT_USERNAME",
        "REDDIT_PASSWORD", "REDDIT_REFRESH_TOKEN", "SECRET_KEY", "EARSHOT_CONFIG", "EARSHOT_DATABASE_URL",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def write_config(tmp_path: Path, extra: str = "", replace: dict[str, str] | None = None) -> Path:
    """A copy of the shipped config.toml with its database under tmp_path."""
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    text = text.replace('path = "instance/earshot.db"', f'path = "{tmp_path / "earshot.db"}"')
    for old, new in (replace or {}).items():
        assert old in text, f"config.toml no longer contains {old!r}"
        text = text.replace(old, new)
    path = tmp_path / "config.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


# Tests that use the database run on both backends: SQLite, and a real PostgreSQL
# server that tests/pg_server.py starts for the session (a fresh database per test,
# copied from a migrated template). If it cannot start, those tests fail saying why.


def pytest_generate_tests(metafunc):
    """Run every test that touches the database once per backend (SQLite-only checks once)."""
    if "db" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    named = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        named |= {n.strip() for n in (names.split(",") if isinstance(names, str) else names)}
    if "backend" not in named:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request) -> str:
    """The store backend under test: "sqlite" (the default) or "postgresql"."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session, with a migrated template database."""
    from pg_server import PgServer, ServerUnavailable

    try:
        server = PgServer().start()
    except ServerUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    os.environ["EARSHOT_DATABASE_PASSWORD"] = server.password
    try:
        server.template = server.create_database()
        store.connect(server.url(server.template)).close()
        store.postgres.close_pools(server.url(server.template))
        yield server
    finally:
        store.postgres.close_pools()
        server.stop()


@pytest.fixture
def pg_url(pg_server):
    """A fresh, migrated PostgreSQL database for one test; dropped after it."""
    name = pg_server.create_database(template=pg_server.template)
    url = pg_server.url(name)
    yield url
    store.postgres.close_pools(url)
    pg_server.drop_database(name)


def data_version(db) -> int:
    """A number that changes whenever any connection writes (SQLite's data_version; PostgreSQL's next xid)."""
    if db.dialect == "postgresql":
        return int(db.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetchone()[0])
    return db.execute("PRAGMA data_version").fetchone()[0]


def migrated_before(path: Path, prefix: str) -> store.Database:
    """A SQLite database at `path` with every migration before the one named `prefix...` applied."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.commit()
    conn.close()
    db = store.Database(sqlite3.connect(path, isolation_level=None))
    for name, step in store.MIGRATIONS:
        if name.startswith(prefix):
            break
        with db.atomic():
            step(db)
            db.execute("INSERT INTO _migrations VALUES (?, 't')", [name])
    return db


def use_database(config: Path, url: str) -> Path:
    """Point a config file's [storage] at a PostgreSQL URL."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[storage]\n", f'[storage]\nurl = "{url}"\n', 1), encoding="utf-8")
    return config


@pytest.fixture
def settings_path(tmp_path, backend, request) -> Path:
    """Path of a temporary config whose database lives in tmp_path (or on the test PostgreSQL server)."""
    path = write_config(tmp_path)
    return use_database(path, request.getfixturevalue("pg_url")) if backend == "postgresql" else path


@pytest.fixture
def settings(settings_path) -> settings_mod.Settings:
    """Settings loaded from the temporary config."""
    return settings_mod.load(settings_path)


@pytest.fixture
def db(settings):
    """A migrated database: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    database = store.connect(settings.database)
    yield database
    database.close()


@pytest.fixture
def app(settings, db):
    """The console app in testing mode, on the temporary database."""
    from web import create_app

    application = create_app(settings, secret_key="test-secret-key", demo=True, testing=True)
    yield application


@pytest.fixture
def client(app):
    """A Flask test client for the console."""
    return app.test_client()


@pytest.fixture
def runner(settings_path):
    """Invoke `app.py` commands against the temporary config: runner(['import', ...])."""
    from app import cli

    cli_runner = CliRunner()

    def invoke(args, **kwargs):
        return cli_runner.invoke(cli, ["--config", str(settings_path), *args], **kwargs)

    return invoke
