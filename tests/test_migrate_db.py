"""`app.py migrate-db`: the demo database copied to PostgreSQL and checked; an interrupted copy resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, write_config

import settings as settings_mod
import store
from store import migrate


def test_the_demo_database_moves_to_postgresql_and_checks_out(runner, settings, pg_url, tmp_path):
    assert runner(["demo"]).exit_code == 0
    result = runner(["migrate-db", "--to", pg_url])
    assert result.exit_code == 0, result.output
    assert "Check passed: counts and sampled rows match." in result.output
    old, new = store.connect(settings.db_path), store.connect(pg_url)
    for table in ("mentions", "authors", "users", "replies", "tags", "notes", "audit_log", "alerts"):
        assert old.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == new.execute(
            f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table  # fmt: skip
    assert [r["id"] for r in store.inbox_mentions(new, {})] == [r["id"] for r in store.inbox_mentions(old, {})]
    starts = "SELECT platform, author_id, brand, mention_id, created_at FROM complaint_starts ORDER BY mention_id"
    assert [tuple(r) for r in new.execute(starts).fetchall()] == [tuple(r) for r in old.execute(starts).fetchall()]
    assert new.execute("SELECT count(*) FROM complaint_starts").fetchone()[0] > 0, "rebuilt by the target's triggers"
    assert new.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0, "indexed for search before the end"
    assert new.execute("SELECT count(*) FROM search_text").fetchone()[0] == store.count_mentions(new)
    query = {"q": "parcel", "status": "all"}
    assert [r["id"] for r in store.search_inbox(new, query)[0]] == [r["id"] for r in store.search_inbox(old, query)[0]]
    user = store.list_users(old)[0]["username"]
    assert store.get_user(new, user.upper())["username"] == user, "usernames stay case-insensitive"
    again = runner(["migrate-db", "--to", pg_url])
    assert again.exit_code == 0 and "Check passed" in again.output, "a finished copy run again copies nothing"
    top = new.execute("SELECT max(id) FROM mentions").fetchone()[0]
    with new.atomic():
        store.upsert_mentions(new, [{"platform": "x", "external_id": "after-move", "brand": "Parcelo", "text": "new",
                                     "created_at": "2026-11-18T10:00:00Z"}])  # fmt: skip
    assert store.mention_id(new, "x", "after-move") == top + 1, "new rows get ids after the copied ones"
    drifted = runner(["migrate-db", "--to", pg_url])
    assert drifted.exit_code == 1 and "mentions: " in drifted.output and "Check FAILED" in drifted.output
    old.close()
    new.close()


def test_a_target_with_other_data_is_refused(runner, settings, pg_url):
    db = store.connect(pg_url)
    store.add_user(db, "someone", "hash", "agent")
    db.close()
    store.connect(settings.db_path).close()
    result = runner(["migrate-db", "--to", pg_url])
    assert result.exit_code == 1
    assert "already holds users rows" in result.output


def add_mentions(path, count: int) -> None:
    """A SQLite database with `count` mentions."""
    db = store.connect(path)
    rows = [{"platform": "reddit", "external_id": f"t{i}", "brand": "Parcelo", "text": f"parcel story {i}",
             "author_id": f"a{i % 50}", "created_at": "2026-11-17T08:00:00Z"} for i in range(count)]  # fmt: skip
    for at in range(0, count, 1000):
        with db.atomic():
            store.upsert_mentions(db, rows[at : at + 1000])
    db.close()


def test_an_interrupted_copy_resumes_where_it_stopped(tmp_path, pg_url):
    config = write_config(tmp_path)
    source = settings_mod.load(config).db_path
    add_mentions(source, 4000)
    command = [sys.executable, str(ROOT / "app.py"), "--config", str(config), "migrate-db", "--to", pg_url,
               "--batch-size", "20"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
    target = store.connect(pg_url)
    progress = "SELECT coalesce(sum(copied), 0) FROM _migrate_progress WHERE name = 'mentions'"
    try:
        deadline = time.monotonic() + 120
        while target.execute("SELECT to_regclass('_migrate_progress')").fetchone()[0] is None or \
                target.execute(progress).fetchone()[0] < 200:  # fmt: skip
            assert time.monotonic() < deadline and proc.poll() is None, "the copy never got going"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        proc.kill()
    stopped_at = target.execute(progress).fetchone()[0]
    assert 200 <= stopped_at < 4000, "killed part-way through the mentions"
    assert target.execute("SELECT count(*) FROM mentions").fetchone()[0] == stopped_at, "the mark matches the rows"
    report = migrate.migrate_database(source, pg_url, batch_size=500, echo=lambda line: None)
    assert report.ok, report.problems
    assert report.copied["mentions"] == 4000 - stopped_at, "only the rest was copied"
    assert report.counts["mentions"] == (4000, 4000)
    dupes = "SELECT count(*) FROM (SELECT 1 FROM mentions GROUP BY platform, external_id HAVING count(*) > 1) d"
    assert target.execute(dupes).fetchone()[0] == 0
    assert report.counts["authors"] == (50, 50)
    target.close()


def test_the_check_finds_a_row_that_differs(tmp_path, pg_url):
    source = tmp_path / "s.db"
    add_mentions(source, 300)
    assert migrate.migrate_database(source, pg_url, echo=lambda line: None).ok
    target = store.connect(pg_url)
    target.execute("UPDATE mentions SET text = 'changed' WHERE id % 2 = 0")
    db = store.connect(source)
    report = migrate.MigrationReport()
    migrate.check(db, target, ["mentions"], report)
    assert not report.ok and "mentions: row [" in report.problems[0]
    target.execute("DELETE FROM mentions WHERE id = 1")
    report = migrate.MigrationReport()
    migrate.check(db, target, ["mentions"], report)
    assert "mentions: 300 rows in SQLite but 299 in PostgreSQL" in report.problems
    db.close()
    target.close()
