"""`app.py collect`: summaries, exit status, the lock, --every, classification, scheduling, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, write_config
from fakeapi import FakeAPI, config_replacements, fake_api  # noqa: F401 - fake_api is a fixture

import settings as settings_mod
import store
from app import cli
from collectors import run, schedule


@pytest.fixture
def api(fake_api, monkeypatch):  # noqa: F811
    """The seeded fake API, with every credential it accepts in the environment."""
    fake_api.seed()
    for name, value in fake_api.env().items():
        monkeypatch.setenv(name, value)
    return fake_api


@pytest.fixture
def fake_config(tmp_path, api) -> Path:
    """A config whose sources point at the fake API and whose database is in tmp_path."""
    return write_config(tmp_path, replace=config_replacements(api))


def invoke(config: Path, *args: str):
    """Run `app.py --config CONFIG ARGS...` in-process."""
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def count(path: Path, sql: str = "SELECT count(*) FROM mentions") -> int:
    """A single number from the database at ``path``."""
    db = store.connect(path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


# --- the command -------------------------------------------------------------------------


def test_without_credentials_every_source_is_skipped(runner, settings):
    result = runner(["collect", "--no-classify"])
    assert result.exit_code == 0, result.output
    assert "x: skipped (X_BEARER_TOKEN is not set)" in result.output
    assert "reddit: skipped (REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET and REDDIT_USER_AGENT are not set)" in result.output
    assert [r["status"] for r in store.collector_runs(store.connect(settings.db_path), "x")] == ["skipped"]


def test_a_source_asked_for_by_name_must_run(runner):
    result = runner(["collect", "--source", "x", "--no-classify"])
    assert result.exit_code == 1 and "x: skipped" in result.output and "reddit" not in result.output


def test_summary_lines_and_exit_status(fake_config, api):
    result = invoke(fake_config, "collect", "--no-classify")
    assert result.exit_code == 0, result.output
    x_line, reddit_line = result.output.strip().splitlines()
    assert x_line.startswith("x: ok: 7 new, 3 updated, 8 pages, 440 requests left, resets ")
    assert reddit_line.startswith("reddit: ok: 4 new, 0 updated, 6 pages, 590 requests left")  # 6th: comment replies


def test_a_rate_limited_source_fails_the_run(fake_config, api):
    api.fail("GET", "/2/tweets/search/recent", 429)
    result = invoke(fake_config, "collect", "--no-classify")
    assert result.exit_code == 1
    assert "x: rate limited: " in result.output and "(the next run waits)" in result.output
    assert "reddit: ok" in result.output
    again = invoke(fake_config, "collect", "--source", "x", "--no-classify")
    assert again.exit_code == 1 and "x: skipped (waiting for the rate limit to reset at" in again.output


def test_second_run_on_the_same_database_is_refused(fake_config, api):
    settings = settings_mod.load(fake_config)
    with run.collect_lock(settings.db_path):
        result = invoke(fake_config, "collect", "--no-classify")
    assert result.exit_code == 1
    assert f"another collection run (pid {os.getpid()}) is using" in result.output
    assert not api.requests, "the refused run must not call the APIs"


def test_every_repeats_until_interrupted(fake_config, api, monkeypatch):
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(run.time, "sleep", sleep)
    lines = []
    ok = run.collect_command(settings_mod.load(fake_config), "reddit", 60, lines.append, classify=False)
    assert ok and len(lines) == 2 and all(line.startswith("reddit: ok") for line in lines)
    assert all(54 <= s <= 66 for s in sleeps), "10% jitter either way"


def test_new_mentions_are_classified_by_the_bundled_model(fake_config, api):
    result = invoke(fake_config, "collect")
    assert result.exit_code == 0, result.output
    path = settings_mod.load(fake_config).db_path
    total = count(path)
    assert total and count(path, "SELECT count(*) FROM mentions WHERE sentiment IS NOT NULL") == total
    assert count(path, "SELECT count(*) FROM mentions WHERE urgency IS NOT NULL") == total
    again = invoke(fake_config, "collect")
    assert "Scoring" not in again.output, "the second run brought nothing new to score"


def test_a_classifier_that_cannot_load_costs_one_line(tmp_path, api):
    config = write_config(
        tmp_path, replace={**config_replacements(api), 'model = "bundled"': f'model = "{tmp_path / "no-model"}"'}
    )
    result = invoke(config, "collect")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "classifier model could not load" in line]
    assert len(lines) == 1 and lines[0].endswith("new mentions stay unscored")
    assert count(settings_mod.load(config).db_path, "SELECT count(*) FROM mentions WHERE sentiment IS NULL") > 0


# --- scheduling for `app.py run` --------------------------------------------------------------


def test_background_collection_is_off_without_credentials(settings):
    lines = []
    assert schedule.start_background(settings, lines.append) is None
    assert lines == ["Background collection is off: no source has credentials in the environment."]


def test_background_collection_runs_due_sources(fake_config, api):
    settings = settings_mod.load(fake_config)
    lines = []
    started = schedule.start_background(settings, lines.append, tick=0.05)
    try:
        deadline = time.monotonic() + 20
        while count(settings.db_path, "SELECT count(*) FROM collector_runs WHERE status = 'ok'") < 2:
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
    finally:
        started.stop(timeout=300)  # the run in flight loads the model and scores: slow on a busy machine
    assert not started.thread.is_alive()
    assert lines[0] == "Collecting in the background: x every 15 min, reddit every 10 min."
    assert schedule.due_sources(settings) == [], "nothing is due again before poll_minutes"
    scored = "SELECT count(*) FROM mentions WHERE sentiment IS NOT NULL"
    assert count(settings.db_path, scored) == count(settings.db_path), "what the schedule collects is classified too"
    assert count(settings.db_path, "SELECT count(*) FROM collector_runs") == 2


# --- end to end -------------------------------------------------------------------------


def test_end_to_end_collect_subprocess(tmp_path):
    with FakeAPI() as api:
        api.seed()
        config = write_config(tmp_path, replace=config_replacements(api))
        env = {**os.environ, **api.env(), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, str(ROOT / "app.py"), "--config", str(config), "collect", "--no-classify"]
        first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "x: ok: 7 new" in first.stdout and "reddit: ok: 4 new" in first.stdout
        db_path = tmp_path / "earshot.db"
        assert count(db_path) == 11
        assert count(db_path, "SELECT count(*) FROM mentions WHERE reply_via_api = 1") == 7
        assert count(db_path, "SELECT count(DISTINCT brand) FROM mentions") == 3
        api.add_tweet("@ParceloCares where is my refund?", author="late_one")
        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "x: ok: 1 new" in second.stdout and "reddit: ok: 0 new" in second.stdout
        assert count(db_path) == 12
        assert count(db_path, "SELECT count(*) FROM (SELECT 1 FROM mentions GROUP BY platform, external_id)") == 12
        assert count(db_path, "SELECT count(*) FROM collector_runs WHERE status = 'ok'") == 4
        for secret in api.env().values():
            assert secret not in first.stdout + first.stderr + second.stdout + second.stderr


# --- run history ----------------------------------------------------------------------------


def test_a_collector_killed_mid_run_leaves_true_counts_and_ends_interrupted(tmp_path, api):
    for i in range(250):
        api.add_tweet(f"Lumina Mobile outage report {i}", author=f"user{i}")
    config = write_config(tmp_path, replace=config_replacements(api))
    settings = settings_mod.load(config)
    stall = api.stall("GET", "/2/tweets/search/recent", after=2)  # the third page never comes back
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "app.py"), "--config", str(config), "collect", "--source", "x", "--no-classify"]
    proc = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert stall.reached.wait(90), "the collector never asked for the third page"
        proc.kill()  # SIGKILL: no finally, no exit handler runs
        proc.wait(30)
    finally:
        stall.release.set()
        if proc.poll() is None:
            proc.kill()
    stored = count(settings.db_path)
    db = store.connect(settings.db_path)
    try:
        run_row = store.collector_runs(db, "x", limit=1)[0]
        assert stored == 200 and (run_row["new"], run_row["pages"]) == (200, 2), "the row counts every stored page"
        assert run_row["status"] == "running" and run_row["pid"] == proc.pid
        alive = store.start_collector_run(db, "reddit")  # this test's own process is still running it
    finally:
        db.close()
    html = _sources_page(settings)
    assert "200 new, 0 updated, 2 pages" in html and "interrupted before it finished" in html
    db = store.connect(settings.db_path)
    try:
        assert store.collector_runs(db, "x", limit=1)[0]["status"] == "error"
        assert store.collector_runs(db, "reddit", limit=1)[0]["id"] == alive
        assert store.collector_runs(db, "reddit", limit=1)[0]["status"] == "running", "a live run is left alone"
    finally:
        db.close()
    again = invoke(config, "collect", "--source", "x", "--no-classify")
    assert again.exit_code == 0, again.output
    assert count(settings.db_path) == 250 + 7, "the rest of the 250, and the seed's 7 X mentions"
    assert count(settings.db_path, "SELECT count(*) FROM collector_runs WHERE source = 'x' AND status = 'running'") == 0


def _sources_page(settings) -> str:
    """The console's Sources page for these settings, as an agent sees it."""
    from browser_helpers import add_users, login

    from web import create_app

    db = store.connect(settings.db_path)
    try:
        add_users(db)
    finally:
        db.close()
    client = create_app(settings, secret_key="test-secret-key", demo=True, testing=True).test_client()
    assert login(client, "sam").status_code == 302
    return client.get("/sources").get_data(as_text=True)
