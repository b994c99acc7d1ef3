"""Many writers on one SQLite file: every write waits its turn, nothing is lost, nothing crashes."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from browser_helpers import PASSWORD, add_mention, add_users
from conftest import write_config
from contention import Load, process_env, run_load, start, write_import_file
from fakeapi import config_replacements, fake_api  # noqa: F401 - fake_api is a fixture

import store


def test_a_transaction_that_reads_before_writing_waits_for_another_writer(settings):
    """The shape that lost imports: read, another process commits, then write."""
    first = store.connect(settings.db_path)
    second = store.connect(settings.db_path)
    errors: list[BaseException] = []

    def other_writer():
        try:
            with second.atomic():
                second.execute("INSERT INTO meta (key, value) VALUES ('other', 'writer')")
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever the thread hit
            errors.append(exc)

    with first.atomic():
        first.execute("SELECT count(*) FROM meta").fetchone()
        thread = threading.Thread(target=other_writer)
        thread.start()
        thread.join(timeout=0.5)  # it waits for our lock (before the fix it committed here)
        first.execute("INSERT INTO meta (key, value) VALUES ('first', 'writer')")
    thread.join(timeout=30)
    assert errors == []
    assert dict(first.execute("SELECT key, value FROM meta WHERE key IN ('first', 'other')").fetchall()) == {
        "first": "writer", "other": "writer"}  # fmt: skip


def test_a_writer_waits_past_the_busy_timeout_and_then_says_why(settings, monkeypatch):
    holder = store.connect(settings.db_path)
    waiter = store.connect(settings.db_path)
    waiter.execute("PRAGMA busy_timeout=50")
    monkeypatch.setattr(waiter, "wait_seconds", 0.5)
    with holder.atomic():
        holder.execute("INSERT INTO meta (key, value) VALUES ('held', 'x')")
        with pytest.raises(store.StoreBusy, match="stayed locked by another writer for 0 s; nothing was written"):
            with waiter.atomic():
                pass
    with waiter.atomic():  # the lock is free again
        waiter.execute("INSERT INTO meta (key, value) VALUES ('after', 'x')")
    assert waiter.execute("SELECT count(*) FROM meta WHERE key IN ('held', 'after')").fetchone()[0] == 2


def test_two_imports_at_once_both_store_every_row(runner, settings_path, settings, tmp_path, db):
    files = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    ids = write_import_file(files[0], "a", 10_000) + write_import_file(files[1], "b", 10_000)
    env = process_env({})
    procs = [start(settings_path, ["import", str(path), "--batch-size", "500"], env) for path in files]
    outputs = [(p.communicate(timeout=600)[0], p.returncode) for p in procs]
    for output, code in outputs:
        assert code == 0 and "Traceback" not in output, output
        assert "10000 new, 0 updated" in output
    stored = {r[0] for r in db.execute("SELECT external_id FROM mentions")}
    assert stored == set(ids)


@pytest.fixture
def contended(tmp_path, fake_api):  # noqa: F811 - the fake API fixture
    """A config on the seeded fake API, four staff accounts and 40 mentions to triage."""
    import settings as settings_mod

    fake_api.seed()
    config = write_config(tmp_path, replace=config_replacements(fake_api))
    settings = settings_mod.load(config)
    database = store.connect(settings.db_path)
    add_users(database)
    ids = [add_mention(database, settings, f"triage me {n}: no signal since noon", id=f"t{n}") for n in range(40)]
    database.close()
    return config, settings, ids, fake_api


def test_imports_a_collection_and_ten_agents_at_once_lose_nothing(contended, tmp_path):
    config, settings, mention_ids, api = contended
    outcome = run_load(config, tmp_path, Load(), [("sam", PASSWORD), ("alex", PASSWORD)], mention_ids,
                       process_env(api.env()))  # fmt: skip
    for name, (code, output) in outcome.processes.items():
        assert "Traceback" not in output and "database is locked" not in output, f"{name}:\n{output}"
        if name != "serve":
            assert code == 0, f"{name} exited {code}:\n{output}"
    assert "10000 new, 0 updated, 0 skipped" in outcome.processes["import0"][1]
    assert "10000 new, 0 updated, 0 skipped" in outcome.processes["import1"][1]
    assert "x: ok: 7 new" in outcome.processes["collect"][1] and "reddit: ok: 4 new" in outcome.processes["collect"][1]
    assert len(outcome.statuses) == 10 * 30 and set(outcome.statuses) == {302}, sorted(set(outcome.statuses))
    db = sqlite3.connect(settings.db_path)
    assert db.execute("SELECT count(*) FROM mentions WHERE platform = 'import'").fetchone()[0] == 20_000
    assert db.execute("SELECT count(*) FROM mentions WHERE platform IN ('x', 'reddit')").fetchone()[0] == 40 + 11
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == outcome.notes_posted == 10 * 7
    assert db.execute("SELECT count(DISTINCT tag) FROM tags").fetchone()[0] == 10
    assert db.execute("SELECT status FROM collector_runs ORDER BY id").fetchall() == [("ok",), ("ok",)]
