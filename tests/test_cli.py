"""The command line: help for every command, the README documents each, users, and start-up rules."""

from __future__ import annotations

import socket
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import runtime
import store
from app import cli
from tests.conftest import ROOT, write_config


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


def one_line_error(result) -> str:
    """The single line a refused command printed, after checking it exited 2 without a traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), "no traceback"
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("command", "replace", "env", "message"),
    [
        (["collect", "--no-classify"], {'api_base = ""': 'api_base = "not a url"'}, {},
         "'sources.x.api_base' expected an http(s) URL"),
        (["init-db"], {"page_size = 50": "page_size = 0"}, {}, "'console.page_size' expected a number from 1 to 500"),
        (["init-db"], {'name = "Voltel"': 'name = ""'}, {}, "'brands[2].name' must not be empty"),
        (["collect", "--source", "x"], {}, {"X_BEARER_TOKEN": " "}, "X_BEARER_TOKEN (named by 'sources.x.bearer_token_env')"),
    ],
)  # fmt: skip
def test_config_mistakes_stop_every_command_in_one_line(tmp_path, monkeypatch, command, replace, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path, replace=replace)
    line = one_line_error(CliRunner().invoke(cli, ["--config", str(config), *command]))
    assert message in line and str(config) in line


def test_a_config_without_brands_stops_import(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "e.db"}"\n')
    data = tmp_path / "m.jsonl"
    data.write_text('{"id": "1", "text": "hello", "brand": "Parcelo"}\n')
    line = one_line_error(CliRunner().invoke(cli, ["--config", str(config), "import", str(data)]))
    assert "'brands' is empty" in line


@pytest.mark.parametrize("command", ["serve", "run"])
@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_outside_1_to_65535_is_refused(runner, command, port):
    assert one_line_error(runner([command, "--port", port])) == f"Error: --port must be from 1 to 65535, got {port}"


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_serve_on_a_port_in_use_is_one_line_and_exit_2(settings_path, debug):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "app.py", "--config", str(settings_path), "serve", "--port", str(port), *debug],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == (
        f"Error: cannot listen on --host 127.0.0.1 --port {port}: Address already in use "
        "(is something else using it? pick another --port)"
    )
    assert f":{port}/" not in proc.stdout, "nothing claims to serve on a port it does not have"
