"""Scoring workers: batches claimed with FOR UPDATE SKIP LOCKED, every mention scored exactly once, kills survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, use_database, write_config

import settings as settings_mod
import store
import worker


def mentions(count: int, start: int = 0) -> list[dict]:
    """Store-ready mentions with varied, realistic texts."""
    texts = ["my parcel never arrived, this is the third time", "thanks for the quick refund!",
             "where is my order? tracking has not moved for days", "delivery was fine I guess",
             "ส่งของช้ามาก รอพัสดุสามวันแล้ว", "the driver left it in the rain, box ruined"]  # fmt: skip
    return [
        {"platform": "x", "external_id": str(i), "brand": "Parcelo", "text": f"{texts[i % len(texts)]} #{i}",
         "author_id": f"u{i % 97}", "author_handle": f"user{i % 97}", "created_at": "2026-11-18T09:00:00Z"}
        for i in range(start, start + count)
    ]  # fmt: skip


def add_mentions(db, rows: list[dict]) -> None:
    """Store mentions in batches of 1,000."""
    for at in range(0, len(rows), 1000):
        with db.atomic():
            store.upsert_mentions(db, rows[at : at + 1000])


def test_a_worker_scores_every_unscored_mention_and_stops_when_asked(db, settings):
    add_mentions(db, mentions(70))
    tally = worker.run_worker(settings, batch_size=32, once=True, echo=lambda line: None)
    assert (tally.scored, tally.batches) == (70, 3)
    assert store.count_unscored(db) == 0
    # On PostgreSQL workers also index search from its queue; SQLite indexes as it writes.
    assert tally.indexed == (70 if db.dialect == "postgresql" else 0)
    if db.dialect == "postgresql":
        assert db.execute("SELECT count(*) FROM search_text").fetchone()[0] == 70
    sentiments = {r[0] for r in db.execute("SELECT DISTINCT sentiment FROM mentions").fetchall()}
    assert sentiments <= {"negative", "neutral", "positive"} and sentiments
    again = worker.run_worker(settings, batch_size=32, once=True, echo=lambda line: None)
    assert again.scored == 0, "scored mentions are never claimed again"


def test_a_claimed_batch_is_invisible_to_other_workers_until_its_transaction_ends(pg_url):
    first, second = store.connect(pg_url), store.connect(pg_url)
    add_mentions(first, mentions(10))
    with store.claimed_for_scoring(first, 4) as held:
        with store.claimed_for_scoring(second, 100) as rest:
            assert [r["id"] for r in held] == [1, 2, 3, 4]
            assert [r["id"] for r in rest] == [5, 6, 7, 8, 9, 10]
    # Nothing was saved: the rows are free again for whoever asks next.
    with store.claimed_for_scoring(second, 100) as again:
        assert len(again) == 10
    first.close()
    second.close()


def test_a_stalled_worker_loses_its_batch_after_the_lease(pg_url):
    stalled, other = store.connect(pg_url), store.connect(pg_url)
    add_mentions(stalled, mentions(3))
    with pytest.raises(Exception):  # noqa: B017 - the server ends the stalled session
        with store.claimed_for_scoring(stalled, 10, lease_seconds=1) as rows:
            assert len(rows) == 3
            time.sleep(2.5)
            store.save_claimed_scores(stalled, [])
            stalled.execute("SELECT 1")
    with store.claimed_for_scoring(other, 10) as rows:
        assert len(rows) == 3, "the lease ran out, so another worker gets the batch"
    other.close()


# --- three worker processes, one killed mid-batch ---------------------------------------

COUNT_SCORES = """
CREATE TABLE score_events (mention_id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION log_score() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.scored_at IS NOT NULL AND OLD.scored_at IS NULL THEN
        INSERT INTO score_events (mention_id) VALUES (NEW.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER mentions_score_events AFTER UPDATE OF scored_at ON mentions
    FOR EACH ROW EXECUTE FUNCTION log_score();
"""


def start_worker(config, name: str) -> subprocess.Popen:
    """`app.py worker --once` in its own process, named in pg_stat_activity."""
    env = {**os.environ, "PGAPPNAME": name, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--config", str(config), "worker", "--once", "--batch-size", "50"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def holding_a_batch(db, name: str) -> bool:
    """Whether the named worker is between its claim and its commit (scoring a batch)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? AND state LIKE 'idle in transaction%'"
    return db.execute(sql, [name]).fetchone()[0] > 0


def test_three_workers_one_killed_mid_batch_score_every_mention_exactly_once(tmp_path, pg_url):
    config = use_database(write_config(tmp_path), pg_url)
    db = store.connect(settings_mod.load(config).database)
    add_mentions(db, mentions(5000))
    db.conn.raw.execute(COUNT_SCORES)
    workers = [start_worker(config, f"worker-{i}") for i in range(3)]
    try:
        deadline = time.monotonic() + 300
        while not (db.execute("SELECT count(*) FROM score_events").fetchone()[0] and holding_a_batch(db, "worker-0")):
            assert time.monotonic() < deadline and workers[0].poll() is None, "worker-0 never held a batch"
            time.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)  # mid-batch: it holds claimed rows it has not saved
        outputs = [w.communicate(timeout=600)[0] for w in workers[1:]]
    finally:
        for w in workers:
            w.kill()
    assert workers[0].wait() == -signal.SIGKILL
    assert all(w.returncode == 0 for w in workers[1:]), outputs
    assert all("Scored" in out for out in outputs)
    twice = db.execute("SELECT mention_id FROM score_events GROUP BY mention_id HAVING count(*) > 1").fetchall()
    assert twice == []
    assert db.execute("SELECT count(DISTINCT mention_id) FROM score_events").fetchone()[0] == 5000
    assert store.count_unscored(db) == 0
    per_worker = [int(out.strip().splitlines()[-1].split()[1]) for out in outputs]
    assert all(n > 0 for n in per_worker), "both surviving workers took batches"
    db.close()
