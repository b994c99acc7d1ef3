"""Storage: migrations, upserts that keep staff work, and full-text search in any script."""

from __future__ import annotations

import sqlite3

import pytest

import store


def mention(external_id="1", platform="x", **overrides) -> dict:
    """A minimal store-ready mention row."""
    row = {
        "platform": platform, "external_id": external_id, "brand": "Parcelo",
        "text": "Where is my parcel @ParceloHQ?", "author_id": "u1", "author_handle": "kim",
        "author_name": "Kim", "author_reach": 120, "created_at": "2026-11-20T10:00:00Z",
        "like_count": 1, "repost_count": 0, "reply_count": 0, "raw": {"id": external_id},
    }  # fmt: skip
    row.update(overrides)
    return row


def test_migrations_are_named_applied_once_and_wal(db, settings):
    names = store.applied_migrations(db)
    assert names == [name for name, _ in store.MIGRATIONS]
    assert store.apply_migrations(db) == []
    again = store.connect(settings.db_path)
    assert store.applied_migrations(again) == names
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for table in ("mentions", "authors", "cursors", "collector_runs", "replies", "users", "audit_log", "tags"):
        assert table in again.table_names()


def test_upsert_counts_new_and_updated(db):
    with db.atomic():
        assert store.upsert_mentions(db, [mention("1"), mention("2")]) == (2, 0)
    with db.atomic():
        assert store.upsert_mentions(db, [mention("2", like_count=9), mention("3")]) == (1, 1)
    assert store.count_mentions(db) == 3
    assert db.execute("SELECT like_count FROM mentions WHERE external_id='2'").fetchone()[0] == 9


def test_same_post_twice_in_one_batch_is_stored_once(db):
    with db.atomic():
        assert store.upsert_mentions(db, [mention("7"), mention("7", like_count=3)]) == (1, 0)
    assert store.count_mentions(db) == 1


def test_recollecting_keeps_staff_fields_and_scores(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1")])
    mention_id = db.execute("SELECT id FROM mentions").fetchone()[0]
    db.execute(
        "UPDATE mentions SET status='resolved', assignee='sam', sentiment='negative', urgency=80 WHERE id=?",
        [mention_id],
    )
    db.execute("INSERT INTO tags VALUES (?, 'vip', 'sam', '2026-11-20T10:00:00Z')", [mention_id])
    db.execute("INSERT INTO notes (mention_id, author, body, created_at) VALUES (?, 'sam', 'called', 'x')", [mention_id])
    db.conn.commit()
    with db.atomic():
        store.upsert_mentions(db, [mention("1", like_count=50, text="edited text")])
    row = db.execute("SELECT status, assignee, sentiment, urgency, like_count, text FROM mentions").fetchone()
    assert row == ("resolved", "sam", "negative", 80, 50, "edited text")
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 1


def test_same_id_on_two_platforms_are_two_mentions(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", platform="x"), mention("1", platform="reddit")])
    assert store.count_mentions(db) == 2


def test_failed_batch_rolls_back_with_its_cursor(db):
    with pytest.raises(sqlite3.IntegrityError):
        with db.atomic():
            store.upsert_mentions(db, [mention("1")])
            db.execute("INSERT INTO cursors VALUES ('x', 'Parcelo', 'q', '99', 'now')")
            store.upsert_mentions(db, [mention("2", brand=None)])
    assert store.count_mentions(db) == 0
    assert db.execute("SELECT count(*) FROM cursors").fetchone()[0] == 0


@pytest.mark.sqlite_only  # the FTS5 index and SQLite's planner (tests/test_postgres.py: PostgreSQL's)
@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("ส่งของช้ามาก รอพัสดุสามวันแล้ว", "พัสดุ"),
        ("荷物がまだ届きません", "届きま"),
        ("El paquete llegó roto, qué desastre", "paquete"),
        ("Parcel arrived crushed 📦😡", "crushed"),
        ("الطرد لم يصل بعد", "يصل"),
    ],
)
def test_full_text_search_finds_any_script(db, text, query):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", text=text), mention("2", text="unrelated words here")])
    hits = db.execute(
        "SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?", [store_quote(query)]
    ).fetchall()
    assert len(hits) == 1


def store_quote(query: str) -> str:
    """Quote a phrase for FTS5."""
    return '"' + query.replace('"', '""') + '"'


@pytest.mark.sqlite_only  # the FTS5 index and SQLite's planner (tests/test_postgres.py: PostgreSQL's)
def test_search_index_follows_text_updates(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", text="first version of text")])
    with db.atomic():
        store.upsert_mentions(db, [mention("1", text="second edition")])
    match = "SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH ?"
    assert db.execute(match, ['"first"']).fetchone()[0] == 0
    assert db.execute(match, ['"edition"']).fetchone()[0] == 1


@pytest.mark.sqlite_only  # the FTS5 index and SQLite's planner (tests/test_postgres.py: PostgreSQL's)
def test_inbox_query_uses_index(db):
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM mentions WHERE brand=? AND status=? ORDER BY urgency DESC LIMIT 50",
        ["Parcelo", "new"],
    ).fetchall()
    detail = " ".join(row[-1] for row in plan)
    assert "mentions_brand_status_urgency" in detail
    assert "TEMP B-TREE" not in detail


@pytest.mark.parametrize(
    "filters", [{}, {"brand": "Parcelo"}, {"brand": "Voltel", "platform": "reddit"}, {"assignee": "none"}]
)
def test_active_inbox_by_urgency_pages_like_one_sorted_list(db, filters):
    import random

    rng = random.Random(7)
    rows = [
        mention(str(i), platform=rng.choice(["x", "reddit"]), brand=rng.choice(["Parcelo", "Voltel"]))
        for i in range(240)
    ]
    with db.atomic():
        store.upsert_mentions(db, rows)
        for i, row in enumerate(db.query("SELECT id FROM mentions")):
            urgency = None if i % 17 == 0 else rng.choice([10.0, 55.5, 55.5, 80.0, rng.uniform(0, 100)])
            db.execute("UPDATE mentions SET status = ?, urgency = ? WHERE id = ?",
                       [rng.choice(store.STATUSES), urgency, row["id"]])  # fmt: skip
        db.execute("UPDATE mentions SET assignee = 'sam' WHERE id % 3 = 0")
    wanted = {key: None if value == "none" else value for key, value in filters.items()}
    everything = sorted(db.query("SELECT * FROM mentions"), key=lambda r: (-1 if r["urgency"] is None else r["urgency"], r["id"]), reverse=True)
    expected = [
        r["id"]
        for r in everything
        if r["status"] in ("new", "open", "waiting") and all(r[k] == v for k, v in wanted.items())
    ]
    assert len(expected) > 30
    pages = [store.inbox_mentions(db, filters, "urgency", limit=15, offset=o) for o in range(0, len(expected), 15)]
    assert [r["id"] for page in pages for r in page] == expected


@pytest.mark.sqlite_only  # the FTS5 index and SQLite's planner (tests/test_postgres.py: PostgreSQL's)
def test_active_inbox_reads_the_brand_status_index_for_each_status(db):
    sql, params = store._active_by_urgency({"brand": "Parcelo"}, 50, 0)
    detail = " ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert detail.count("SEARCH m USING INDEX mentions_brand_status_urgency (brand=? AND status=?)") == 3


@pytest.mark.sqlite_only  # the FTS5 index and SQLite's planner (tests/test_postgres.py: PostgreSQL's)
def test_ingest_settings_hold_on_every_connection(db, settings):
    again = store.connect(settings.db_path)
    assert again.execute("PRAGMA temp_store").fetchone()[0] == 2  # statement journals stay in memory
    assert again.execute("SELECT v FROM mentions_fts_config WHERE k = 'automerge'").fetchone()[0] == 16
    indexes = {row[0] for row in again.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "mentions_brand_status_urgency" in indexes and "mentions_active_urgency" not in indexes


def test_authors_track_reach_and_dates(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", author_reach=10, created_at="2026-11-01T00:00:00Z")])
        store.upsert_mentions(db, [mention("2", author_reach=25, created_at="2026-11-05T00:00:00Z")])
    row = db.execute("SELECT reach, first_seen, last_seen FROM authors").fetchone()
    assert row == (25, "2026-11-01T00:00:00Z", "2026-11-05T00:00:00Z")


def test_users_unique_and_roles_checked(db):
    store.add_user(db, "sam", "hash", "agent")
    with pytest.raises(store.StoreError, match="already taken"):
        store.add_user(db, "SAM", "hash", "agent")
    with pytest.raises(store.StoreError, match="role must be one of"):
        store.add_user(db, "kim", "hash", "boss")
    with pytest.raises(store.StoreError, match="no user named"):
        store.update_user(db, "nobody", role="viewer")


def _open(path: str) -> list[str]:
    """Open a database in a child process and report the migrations applied."""
    return store.applied_migrations(store.connect(path))


def test_concurrent_first_open_applies_each_migration_once(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    path = str(tmp_path / "race.db")
    with ProcessPoolExecutor(4) as pool:
        results = list(pool.map(_open, [path] * 4))
    expected = [name for name, _ in store.MIGRATIONS]
    assert all(result == expected for result in results)


def test_failed_migration_leaves_no_half_schema(tmp_path, monkeypatch):
    def broken(db):
        store.run_script(db, "CREATE TABLE half (x);\nCREATE TABLE broken (;\n")

    monkeypatch.setattr(store.schema, "MIGRATIONS", [*store.MIGRATIONS, ("9999_broken", broken)])
    with pytest.raises(sqlite3.OperationalError):
        store.connect(tmp_path / "m.db")
    db = store.connect(tmp_path / "m.db", migrate=False)
    assert "half" not in db.table_names()
    assert "9999_broken" not in store.applied_migrations(db)
    assert "mentions" in db.table_names()


def test_a_reply_is_finished_only_once(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1")])
    mention_id = db.execute("SELECT id FROM mentions").fetchone()[0]
    reply, created = store.start_reply(db, mention_id, "key-1", "sam", "Sorry about that!")
    assert created
    store.finish_reply(db, reply["id"], "sent", "sam", external_id="99")
    with pytest.raises(store.StoreError, match="no longer pending"):
        store.finish_reply(db, reply["id"], "failed", "sam", error="late")
    assert store.get_reply(db, reply["id"])["status"] == "sent"
