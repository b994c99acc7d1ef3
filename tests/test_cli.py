"""The command line: help for every command, the README documents each, users, and start-up rules."""

from __future__ import annotations

import click
import pytest

import runtime
import store
from app import cli
from tests.conftest import ROOT


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """Every command path, e.g. ('user', 'add')."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_top_level_help_lists_commands(runner):
    result = runner(["--help"])
    assert result.exit_code == 0
    for name in ("init-db", "import", "export", "demo", "serve", "run", "user"):
        assert name in result.output


@pytest.mark.parametrize("path", list(all_commands()), ids=" ".join)
def test_every_command_has_help_and_is_in_readme(runner, path):
    result = runner([*path, "--help"])
    assert result.exit_code == 0, result.output
    command = cli
    for name in path:
        command = command.commands[name]
    assert command.help and len(command.help.strip()) > 20, f"{' '.join(path)} needs a real --help"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"app.py {' '.join(path)}" in readme, f"README does not document `app.py {' '.join(path)}`"


def test_user_lifecycle(runner, db):
    add = runner(["user", "add", "kim", "--role", "agent", "--password-stdin"], input="correct horse battery\n")
    assert add.exit_code == 0, add.output
    assert "Added kim (agent)" in add.output
    again = runner(["user", "add", "KIM", "--password-stdin"], input="correct horse battery\n")
    assert again.exit_code == 1 and "already taken" in again.output
    short = runner(["user", "add", "lee", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert runner(["user", "set-role", "kim", "viewer"]).exit_code == 0
    listing = runner(["user", "list"])
    assert "kim" in listing.output and "viewer" in listing.output
    reset = runner(["user", "reset-password", "kim", "--password-stdin"], input="another long password\n")
    assert reset.exit_code == 0
    import users

    assert users.verify(db, "kim", "another long password")["role"] == "viewer"
    assert users.verify(db, "kim", "correct horse battery") is None
    assert runner(["user", "set-role", "ghost", "agent"]).exit_code == 1


def test_init_db_is_repeatable(runner, settings):
    for _ in range(2):
        result = runner(["init-db"])
        assert result.exit_code == 0
        assert "0003_collection" in result.output or "applied" in result.output
    assert settings.db_path.exists()


@pytest.mark.parametrize("command", ["serve", "run"])
def test_refuses_to_start_without_secret_key_outside_demo(runner, monkeypatch, command):
    monkeypatch.setenv("X_BEARER_TOKEN", "token-for-test")
    result = runner([command, "--port", "1"])
    assert result.exit_code == 2
    assert "SECRET_KEY is not set" in result.output


def test_demo_mode_generates_and_keeps_a_secret_key(settings):
    assert runtime.is_demo(settings)
    first = runtime.secret_key(settings, demo=True)
    assert len(first) == 64
    assert runtime.secret_key(settings, demo=True) == first
    key_file = settings.db_path.parent / runtime.SECRET_KEY_FILE
    assert key_file.stat().st_mode & 0o077 == 0


def test_credentials_leave_demo_mode(settings, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "id")
    assert runtime.is_demo(settings)  # a client id alone is not enough
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "secret")
    assert not runtime.is_demo(settings)


def test_environment_key_wins(settings, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert runtime.secret_key(settings, demo=False) == "from-env"


def test_bad_database_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(store.StoreError, match="cannot open database"):
        store.connect(blocker / "sub" / "e.db")


def test_debug_server_only_on_loopback(runner):
    result = runner(["serve", "--debug", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "use it only on 127.0.0.1" in result.output
