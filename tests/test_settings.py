"""Config loading: the shipped file works, and every mistake is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import settings as settings_mod
from tests.conftest import ROOT, write_config


def test_shipped_config_loads():
    loaded = settings_mod.load()
    assert [b.name for b in loaded.brands] == ["Lumina Mobile", "Parcelo", "Voltel"]
    assert loaded.brand("voltel").competitor is True
    assert loaded.brand("Parcelo").handles("x") == ("ParceloHQ", "ParceloCares")
    assert loaded.classifier.model == "bundled"
    assert loaded.sla.target_minutes == 60


def test_database_path_is_relative_to_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[storage]\npath = "data/e.db"\n[[brands]]\nname = "A"\n')
    assert settings_mod.load(path).db_path == tmp_path / "data" / "e.db"


@pytest.mark.parametrize(
    ("replace", "extra", "message"),
    [
        ({"[sla]\n": "[sla]\ntarget_minuts = 5\n"}, "", "unknown key 'sla.target_minuts'"),
        ({"target_minutes = 60": 'target_minutes = "soon"'}, "", "'sla.target_minutes' expected int, got string"),
        ({"enabled = true\npoll_minutes = 15": "enabled = 1\npoll_minutes = 15"}, "",
         "'sources.x.enabled' expected bool, got integer"),
        ({'handles = ["ParceloHQ", "ParceloCares"]': 'handles = "ParceloHQ"'}, "",
         "'brands[1].x.handles' expected a list, got string"),
        ({}, "\n[colour]\nmode = 1\n", "unknown key 'colour'"),
        ({"negativity = 30.0": "negativity = -3.0"}, "", "'urgency.negativity' expected a number >= 0"),
        ({"page_size = 50": "page_size = 0"}, "", "'console.page_size' expected a number from 1 to 500, got 0"),
        ({"page_size = 50": "page_size = 100000"}, "", "'console.page_size' expected a number from 1 to 500, got 100000"),
        ({"refresh_seconds = 20": "refresh_seconds = 0"}, "", "'console.refresh_seconds' expected a number from 1 to 3600"),
        ({"page_size = 100\n# Leave empty for the real API": "page_size = 5\n# Leave empty for the real API"}, "",
         "'sources.x.page_size' expected a number from 10 to 100, got 5"),
        ({"page_size = 100\n# Leave empty for the real Reddit": "page_size = 101\n# Leave empty for the real Reddit"}, "",
         "'sources.reddit.page_size' expected a number from 1 to 100, got 101"),
        ({"poll_minutes = 15": "poll_minutes = 0"}, "", "'sources.x.poll_minutes' expected a number >= 1, got 0"),
        ({"max_length = 128": "max_length = 4096"}, "", "'classifier.max_length' expected a number from 8 to 512"),
        ({"smtp_port = 587": "smtp_port = 70000"}, "", "'alerts.smtp_port' expected a number from 1 to 65535"),
        ({'name = "Parcelo"': 'name = ""'}, "", "'brands[1].name' must not be empty"),
        ({'name = "Parcelo"': 'name = "   "'}, "", "'brands[1].name' must not be empty"),
        ({'api_base = ""': 'api_base = "not a url"'}, "", "'sources.x.api_base' expected an http(s) URL"),
        ({'oauth_url = ""': 'oauth_url = "ftp://gateway.example.com"'}, "", "'sources.reddit.oauth_url' expected an http(s) URL"),
        ({'reddit_url = ""': 'reddit_url = "http://host:99999"'}, "", "'sources.reddit.reddit_url' expected an http(s) URL"),
    ],
)  # fmt: skip
def test_bad_config_names_the_key(tmp_path, replace, extra, message):
    path = write_config(tmp_path, extra=extra, replace=replace)
    with pytest.raises(settings_mod.ConfigError) as info:
        settings_mod.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_duplicate_brand_names_rejected(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[brands]]\nname = "A"\n[[brands]]\nname = "a"\n')
    with pytest.raises(settings_mod.ConfigError, match="unique"):
        settings_mod.load(path)


def test_missing_brand_name_rejected(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[[brands]]\ncompetitor = true\n")
    with pytest.raises(settings_mod.ConfigError, match=re.escape("missing key 'brands[0].name'")):
        settings_mod.load(path)


def test_cli_reports_misspelled_key_in_one_line_with_exit_2(tmp_path):
    path = write_config(tmp_path, replace={"[console]\n": "[console]\npage_sise = 10\n"})
    proc = subprocess.run(
        [sys.executable, "app.py", "--config", str(path), "init-db"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "console.page_sise" in lines[0] and str(path) in lines[0]


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[storage\npath = 1")
    with pytest.raises(settings_mod.ConfigError, match="not valid TOML"):
        settings_mod.load(path)


def test_a_config_without_brands_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[storage]\npath = "e.db"\n')
    with pytest.raises(settings_mod.ConfigError, match=re.escape("'brands' is empty: add a [[brands]]")):
        settings_mod.load(path)


def test_api_urls_that_are_urls_are_accepted(tmp_path):
    path = write_config(tmp_path, replace={'api_base = ""': 'api_base = "http://127.0.0.1:8765/x"'})
    assert settings_mod.load(path).sources.x.api_base == "http://127.0.0.1:8765/x"


def test_a_whitespace_secret_is_an_error_naming_the_variable_and_the_key(settings_path, monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", " ")
    with pytest.raises(settings_mod.ConfigError) as info:
        settings_mod.load(settings_path)
    assert "X_BEARER_TOKEN (named by 'sources.x.bearer_token_env') holds only whitespace" in str(info.value)
    monkeypatch.setenv("X_BEARER_TOKEN", "")  # empty is plain "not set", as before
    assert settings_mod.load(settings_path).configured_sources() == []


def test_a_whitespace_secret_never_counts_as_set(settings, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "\t ")
    assert settings.env("REDDIT_CLIENT_SECRET") is None and settings.configured_sources() == []
