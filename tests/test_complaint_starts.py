"""complaint_starts: each customer's first complaint about a brand, kept by triggers on both backends."""

from __future__ import annotations

import random

import pytest
from conftest import migrated_before

import store

STARTS = "SELECT platform, author_id, brand, mention_id, created_at FROM complaint_starts"
NEGATIVES = ("SELECT platform, author_id, brand, id, created_at FROM mentions "
             "WHERE sentiment = 'negative' AND author_id IS NOT NULL ORDER BY created_at, id")  # fmt: skip


def expected(db) -> dict:
    """The definition, worked out from every mention: the earliest negative one per customer and brand."""
    firsts: dict = {}
    for platform, author, brand, mention_id, created in db.execute(NEGATIVES).fetchall():
        firsts.setdefault((platform, author, brand), (mention_id, created))
    return firsts


def stored(db) -> dict:
    """What the table holds."""
    return {(p, a, b): (i, c) for p, a, b, i, c in db.execute(STARTS).fetchall()}


def mention(n: int, author: str | None, brand: str = "Parcelo", day: int = 1, platform: str = "x") -> dict:
    """One collected mention."""
    return {"platform": platform, "external_id": str(n), "brand": brand, "query": "q", "text": f"post {n}",
            "author_id": author, "author_handle": author, "created_at": f"2026-11-{day:02d}T09:00:00Z"}  # fmt: skip


def score(db, n: int, sentiment: str | None, platform: str = "x") -> None:
    """Set a mention's sentiment, as scoring and staff corrections do."""
    with db.atomic():
        db.execute("UPDATE mentions SET sentiment = ? WHERE id = ?", [sentiment, store.mention_id(db, platform, str(n))])


def test_the_first_complaint_moves_as_mentions_are_scored_corrected_and_deleted(db):
    with db.atomic():
        store.upsert_mentions(db, [mention(1, "ana", day=5), mention(2, "ana", day=3), mention(3, "ana", day=8),
                                   mention(4, "ben", day=4), mention(5, None, day=1)])  # fmt: skip
    assert stored(db) == {}, "unscored mentions are nobody's complaint yet"
    score(db, 1, "negative")
    score(db, 5, "negative")
    first = store.mention_id(db, "x", "1")
    assert stored(db) == {("x", "ana", "Parcelo"): (first, "2026-11-05T09:00:00Z")}, "no author, no customer"
    score(db, 2, "negative")
    assert stored(db)[("x", "ana", "Parcelo")][0] == store.mention_id(db, "x", "2"), "an earlier complaint wins"
    score(db, 3, "negative")
    score(db, 2, "positive")
    assert stored(db)[("x", "ana", "Parcelo")][0] == first, "a corrected start hands over to the next complaint"
    with db.atomic():
        db.execute("DELETE FROM mentions WHERE id = ?", [first])
    assert stored(db)[("x", "ana", "Parcelo")][0] == store.mention_id(db, "x", "3")
    score(db, 3, None)
    assert stored(db) == {}, "a customer with no complaint left has no start"


def test_same_time_ties_go_to_the_lower_id_and_brands_stay_apart(db):
    with db.atomic():
        store.upsert_mentions(db, [mention(1, "ana", day=2), mention(2, "ana", day=2),
                                   mention(3, "ana", brand="Voltel", day=1)])  # fmt: skip
    for n in (2, 1, 3):
        score(db, n, "negative")
    assert stored(db) == expected(db)
    assert stored(db)[("x", "ana", "Parcelo")][0] == store.mention_id(db, "x", "1")
    assert len(stored(db)) == 2


def test_a_bulk_load_of_scored_mentions_fills_the_table(db):
    rows = [{**mention(n, f"u{n % 40}", day=1 + n % 20), "sentiment": "negative" if n % 3 else "neutral"}
            for n in range(600)]  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, rows)
        db.execute("UPDATE mentions SET sentiment = CASE WHEN id % 3 = 0 THEN 'neutral' ELSE 'negative' END")
    assert stored(db) == expected(db) and len(stored(db)) == 40


@pytest.mark.parametrize("seed", [1, 2])
def test_any_sequence_of_writes_keeps_the_table_true_to_its_definition(db, seed):
    rng = random.Random(seed)
    for n in range(150):
        with db.atomic():
            if n < 15 or rng.random() < 0.4:
                store.upsert_mentions(db, [mention(n, rng.choice(["ana", "ben", None]), rng.choice(["Parcelo", "Voltel"]),
                                                   rng.randint(1, 9), rng.choice(["x", "reddit"]))])  # fmt: skip
            target = rng.choice([r[0] for r in db.execute("SELECT id FROM mentions").fetchall()])
            move = rng.random()
            if move < 0.6:
                db.execute("UPDATE mentions SET sentiment = ? WHERE id = ?",
                           [rng.choice(["negative", "positive", None]), target])  # fmt: skip
            elif move < 0.85:
                db.execute("UPDATE mentions SET created_at = ?, author_id = ? WHERE id = ?",
                           [f"2026-11-{rng.randint(1, 9):02d}T09:00:00Z", rng.choice(["ana", "ben"]), target])
            else:
                db.execute("DELETE FROM mentions WHERE id = ?", [target])
        assert stored(db) == expected(db), f"after write {n}"


@pytest.mark.sqlite_only
def test_the_migration_fills_the_table_from_mentions_already_scored(settings):
    db = migrated_before(settings.db_path, "0043")
    with db.atomic():
        store.upsert_mentions(db, [mention(n, f"u{n % 5}", day=9 - n % 7) for n in range(30)])
        db.execute("UPDATE mentions SET sentiment = CASE WHEN id % 2 = 0 THEN 'negative' ELSE 'positive' END")
    assert store.apply_migrations(db)[0] == "0043_complaint_starts"
    assert stored(db) == expected(db) and len(stored(db)) == 5


def test_two_writers_correcting_one_customer_at_once_leave_the_right_start(db, settings):
    import threading

    with db.atomic():
        store.upsert_mentions(db, [mention(1, "ana", day=1), mention(2, "ana", day=2), mention(3, "ana", day=3)])
        db.execute("UPDATE mentions SET sentiment = 'negative'")
    first, second = store.mention_id(db, "x", "1"), store.mention_id(db, "x", "2")
    other = store.connect(settings.database)
    done = threading.Event()

    def correct_second():
        with other.atomic():
            other.execute("UPDATE mentions SET sentiment = 'positive' WHERE id = ?", [second])
        done.set()

    with db.atomic():
        db.execute("UPDATE mentions SET sentiment = 'positive' WHERE id = ?", [first])
        writer = threading.Thread(target=correct_second)
        writer.start()
        assert not done.wait(0.5) or db.dialect == "sqlite", "the second hand-over waits for the first"
    writer.join(10)
    other.close()
    assert done.is_set()
    assert stored(db) == expected(db) == {("x", "ana", "Parcelo"): (store.mention_id(db, "x", "3"), "2026-11-03T09:00:00Z")}
