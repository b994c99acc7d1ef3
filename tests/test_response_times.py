"""Stored response times (0047): each answered mention keeps its minutes to first response and first responder."""

from __future__ import annotations

import pytest
from conftest import migrated_before

import clock
import store

ANSWERED = "SELECT response_minutes, first_responder FROM mentions WHERE id = ?"


def mention(db, n: int, at: str = "2026-11-10T09:00:00Z") -> int:
    """Store one Parcelo mention on X created at `at`; return its id."""
    store.upsert_mentions(db, [{"platform": "x", "external_id": str(n), "brand": "Parcelo", "query": "q",
                                "text": f"post {n}", "author_id": f"a{n}", "created_at": at}])  # fmt: skip
    return store.mention_id(db, "x", str(n))


def answer(db, mention_id: int, author: str, at: str, status: str = "sent") -> None:
    """Send a reply from `author` at the time `at`, as the console does."""
    clock.start_at(at, frozen=True)
    reply, _ = store.start_reply(db, mention_id, f"{author}-{mention_id}-{at}", author, "Sorry!", override=True)
    store.finish_reply(db, reply["id"], status, author, external_id=f"r-{reply['id']}")


def test_the_first_public_reply_sets_the_time_and_the_responder_once(db):
    first = mention(db, 1)
    answer(db, first, "kim", "2026-11-10T09:00:00Z", status="failed")
    assert db.execute(ANSWERED, [first]).fetchone() == (None, None), "a failed reply answers nobody"
    answer(db, first, "sam", "2026-11-10T09:42:30Z")
    assert db.execute(ANSWERED, [first]).fetchone() == (42.5, "sam")
    answer(db, first, "kim", "2026-11-10T11:00:00Z")
    assert db.execute(ANSWERED, [first]).fetchone() == (42.5, "sam"), "a second reply changes neither"
    unanswered = mention(db, 2)
    assert db.execute(ANSWERED, [unanswered]).fetchone() == (None, None)
    found = store.reputation_answered(db, "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z", ["Parcelo"], ["x"])
    assert found == [(42.5, "sam")]


def test_a_manual_reply_counts_and_the_range_is_half_open(db):
    inside, outside = mention(db, 1, "2026-11-10T23:59:59Z"), mention(db, 2, "2026-11-11T00:00:00Z")
    answer(db, inside, "ana", "2026-11-11T00:09:59Z", status="manual")
    answer(db, outside, "ana", "2026-11-11T00:05:00Z")
    found = store.reputation_answered(db, "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z", ["Parcelo"], ["x"])
    assert found == [(10.0, "ana")]


def test_a_writer_that_names_the_responder_itself_keeps_the_name(db):
    loaded = mention(db, 1)
    with db.atomic():
        db.execute("UPDATE mentions SET first_response_at = '2026-11-10T10:00:00Z', first_responder = 'imported' "
                   "WHERE id = ?", [loaded])  # fmt: skip
    assert db.execute(ANSWERED, [loaded]).fetchone() == (60.0, "imported"), "no reply stored: the name stays"


@pytest.mark.sqlite_only
def test_the_migration_fills_in_mentions_answered_before_it(settings):
    db = migrated_before(settings.db_path, "0047")
    first, second = mention(db, 1), mention(db, 2)
    with db.atomic():
        for n, (mention_id, author, sent) in enumerate([(first, "kim", "2026-11-10T09:20:00Z"),
                                                        (first, "sam", "2026-11-10T09:05:00Z")]):  # fmt: skip
            db.execute("INSERT INTO replies (mention_id, idempotency_key, author, body, status, created_at, sent_at) "
                       "VALUES (?, ?, ?, 'hi', 'sent', ?, ?)", [mention_id, f"k{n}", author, sent, sent])  # fmt: skip
        db.execute("UPDATE mentions SET first_response_at = '2026-11-10T09:05:00Z' WHERE id = ?", [first])
    assert "0047_stored_response_times" in store.apply_migrations(db)
    assert db.execute(ANSWERED, [first]).fetchone() == (5.0, "sam"), "the earliest public reply's author"
    assert db.execute(ANSWERED, [second]).fetchone() == (None, None)
    plan = " ".join(row[3] for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT response_minutes, first_responder FROM mentions INDEXED BY mentions_answered "
        "WHERE first_response_at IS NOT NULL AND brand IN ('Parcelo') AND platform IN ('x') "
        "AND created_at >= '2026-11-01' AND created_at < '2026-11-20'").fetchall())  # fmt: skip
    assert "COVERING INDEX mentions_answered" in plan, plan
