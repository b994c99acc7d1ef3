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
        "REDDIT_PASSWORD", "REDDIT_REFRESH_TOKEN", "SECRET_KEY", "EARSHOT_CONFIG",
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


@pytest.fixture
def settings_path(tmp_path) -> Path:
    """Path of a temporary config whose database lives in tmp_path."""
    return write_config(tmp_path)


@pytest.fixture
def settings(settings_path) -> settings_mod.Settings:
    """Settings loaded from the temporary config."""
    return settings_mod.load(settings_path)


@pytest.fixture
def db(settings):
    """A migrated SQLite database file in tmp_path."""
    database = store.connect(settings.db_path)
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
