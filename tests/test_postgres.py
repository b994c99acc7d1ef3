"""PostgreSQL as the store: search in any script, its indexes, migrations, settings, and many processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest
import requests
from browser_helpers import PASSWORD, add_mention, add_users
from conftest import ROOT, use_database, write_config
from contention import agent_session, free_port, process_env, start, wait_until_serving
from fakeapi import FakeAPI, config_replacements

import settings as settings_mod
import store
from store import postgres


def mention(external_id: str, text: str, **fields) -> dict:
    """A minimal store-ready mention."""
    return {"platform": "x", "external_id": external_id, "brand": "Parcelo", "text": text, "author_id": "u1",
            "created_at": "2026-11-18T09:00:00Z", **fields}  # fmt: skip


# --- search, on both backends --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("ส่งของช้ามาก รอพัสดุสามวันแล้ว", "พัสดุ"),
        ("荷物がまだ届きません", "届きま"),
        ("El paquete llegó roto, qué desastre", "PAQUETE"),
        ("Parcel arrived crushed 📦😡", "crushed"),
        ("الطرد لم يصل بعد", "يصل"),
        ("100% refund_please now", "100% refund_"),
    ],
)
def test_search_finds_any_script_and_takes_wildcards_literally(db, text, query):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", text), mention("2", "unrelated words here 100 refunds")])
    rows, counts, full = store.search_inbox(db, {"q": query, "status": "all"})
    assert [r["text"] for r in rows] == [text]
    assert counts["new"] == 1 and not full


def test_search_follows_edited_text(db):
    with db.atomic():
        store.upsert_mentions(db, [mention("1", "first version of text")])
    with db.atomic():
        store.upsert_mentions(db, [mention("1", "second edition")])
    assert store.search_inbox(db, {"q": "first", "status": "all"})[0] == []
    assert len(store.search_inbox(db, {"q": "edition", "status": "all"})[0]) == 1


# --- PostgreSQL's own schema and plans ----------------------------------------------------------


def plan(db, sql: str, params: list, sort: bool = True) -> str:
    """PostgreSQL's plan for a query, with sequential scans ruled out (the tables here are tiny).

    With sort=False sorting is ruled out too, so any order an index cannot give shows up as a Sort.
    """
    with db.atomic():
        db.execute("SET LOCAL enable_seqscan = off")
        if not sort:
            db.execute("SET LOCAL enable_sort = off")
        return "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}", params).fetchall())


def test_search_uses_the_trigram_index(pg_url):
    db = store.connect(pg_url)
    sql, params = store.inbox._matches(db, {"q": "พัสดุ", "status": "all"}, "m.id", 50)
    assert "s.text ILIKE ? ESCAPE" in sql and "search_pending" in sql
    found = plan(db, "SELECT s.mention_id FROM search_text s WHERE s.text ILIKE ? ESCAPE '\\'", params[:1])
    assert "search_text_trgm" in found
    assert "mentions_text_trgm" not in "\n".join(r[0] for r in db.execute("SELECT indexname FROM pg_indexes"))
    db.close()


def search_ids(db, query: str) -> list[int]:
    """Ids of the mentions a console search for `query` finds, newest first."""
    return [r["id"] for r in store.search_inbox(db, {"q": query, "status": "all"})[0]]


def queued(db) -> list[int]:
    """Mention ids waiting in PostgreSQL's search queue."""
    return sorted(r[0] for r in db.execute("SELECT mention_id FROM search_pending").fetchall())


def test_search_is_exact_before_and_after_the_queue_is_indexed(pg_url):
    db = store.connect(pg_url)
    with db.atomic():
        store.upsert_mentions(db, [mention("1", "parcel lost in transit"), mention("2", "parcel arrived fine")])
    one, two = store.mention_id(db, "x", "1"), store.mention_id(db, "x", "2")
    assert queued(db) == [one, two], "ingest queues new mentions instead of indexing them"
    assert search_ids(db, "parcel") == [two, one] and search_ids(db, "transit") == [one]
    assert store.catch_up_search(db) == 2 and queued(db) == []
    assert search_ids(db, "parcel") == [two, one] and search_ids(db, "transit") == [one]
    with db.atomic():
        store.upsert_mentions(db, [mention("1", "parcel found at the depot")])
    indexed = db.execute("SELECT text FROM search_text WHERE mention_id = ?", [one]).fetchone()[0]
    assert indexed == "parcel found at the depot", "an edit corrects the index at once"
    assert search_ids(db, "transit") == [] and search_ids(db, "depot") == [one]
    with db.atomic():
        store.upsert_mentions(db, [mention("2", "parcel arrived fine")])  # same text: nothing to queue
    assert queued(db) == [one]
    with db.atomic():
        db.execute("DELETE FROM mentions WHERE id = ?", [one])
    assert store.catch_up_search(db) == 1 and queued(db) == [], "a deleted mention's queue entry is dropped"
    assert db.execute("SELECT count(*) FROM search_text").fetchone()[0] == 1
    assert search_ids(db, "depot") == [] and search_ids(db, "parcel") == [two]
    db.close()


def test_an_edit_during_an_indexing_pass_is_never_lost(pg_url):
    indexer, editor = store.connect(pg_url), store.connect(pg_url)
    with editor.atomic():
        store.upsert_mentions(editor, [mention("1", "parcel version one")])
    with indexer.atomic():  # a pass reads the first text, then an edit commits before the pass does
        indexer.conn.raw.execute(postgres._INDEX_PENDING_SQL, [100])
        with editor.atomic():
            store.upsert_mentions(editor, [mention("1", "parcel version two")])
    stale = editor.execute("SELECT text FROM search_text").fetchone()[0]
    assert stale == "parcel version one", "the pass wrote what it read"
    one = store.mention_id(editor, "x", "1")
    assert queued(editor) == [one], "the edit stayed queued"
    assert search_ids(editor, "one") == [] and search_ids(editor, "two") == [one]
    store.catch_up_search(editor)
    assert editor.execute("SELECT text FROM search_text").fetchone()[0] == "parcel version two"
    assert search_ids(editor, "two") == [one] and queued(editor) == []
    indexer.close()
    editor.close()


def test_two_indexing_passes_at_once_take_different_mentions(pg_url):
    first, second = store.connect(pg_url), store.connect(pg_url)
    with first.atomic():
        store.upsert_mentions(first, [mention(str(i), f"parcel number {i}") for i in range(300)])
    with first.atomic():
        taken_first = first.conn.raw.execute(postgres._INDEX_PENDING_SQL, [200]).fetchone()[0]
        taken_second = postgres.index_pending_search(second, 200)  # skips the rows the first pass holds
    assert (taken_first, taken_second) == (200, 100)
    assert queued(second) == [] and first.execute("SELECT count(*) FROM search_text").fetchone()[0] == 300
    first.close()
    second.close()


def test_inbox_and_dashboard_read_their_indexes(pg_url):
    db = store.connect(pg_url)
    inbox = "SELECT id FROM mentions WHERE brand = ? AND status = ? ORDER BY urgency DESC LIMIT 50"
    found = plan(db, inbox, ["Parcelo", "new"])
    assert "urgency on mentions" in found and "Sort" not in found, "read in urgency order off an index"
    counts = ("SELECT count(*) FROM mentions WHERE brand = ? AND platform IN (?, ?) AND sentiment = ? "
              "AND sentiment IS NOT NULL AND created_at >= ? AND created_at < ?")  # fmt: skip
    found = plan(db, counts, ["b", "x", "r", "negative", "a", "z"])
    assert "Index Only Scan using mentions_reputation" in found
    db.close()


def test_the_planner_knows_a_brand_never_seen_on_a_platform(pg_url):
    db = store.connect(pg_url)
    rows = [mention(f"a{i}", "text", brand="Parcelo", platform="x") for i in range(1000)]
    rows += [mention(f"b{i}", "text", brand="Voltel", platform="reddit") for i in range(1000)]
    with db.atomic():
        store.upsert_mentions(db, rows)
        db.execute("UPDATE mentions SET sentiment = 'negative'")
    db.execute("ANALYZE mentions")
    sql = ("SELECT id FROM mentions WHERE brand = ? AND platform = ? AND sentiment = ? "
           "AND created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT 1000")  # fmt: skip
    top = db.execute(f"EXPLAIN {sql}", ["Parcelo", "reddit", "negative", "2026-01-01", "2027-01-01"]).fetchone()[0]
    estimate = int(top.split("rows=")[1].split()[0])
    assert estimate < 10, f"estimated {estimate} rows for a pair that never occurs: {top}"
    db.close()


def test_descending_sort_keys_keep_sqlites_null_order_where_nulls_can_occur():
    assert postgres.translate("ORDER BY m.urgency DESC, m.id DESC") == "ORDER BY m.urgency DESC NULLS LAST, m.id DESC"
    assert postgres.translate("ORDER BY count(*) DESC, created_at DESC") == (
        "ORDER BY count(*) DESC NULLS LAST, created_at DESC")  # fmt: skip
    assert postgres.translate("ORDER BY valid DESC NULLS FIRST") == "ORDER BY valid DESC NULLS FIRST"
    assert postgres.translate("ORDER BY s.created_at DESC, s.mention_id DESC") == (
        "ORDER BY s.created_at DESC, s.mention_id DESC")  # fmt: skip


def test_retention_reads_later_posts_from_the_author_index_alone(pg_url):
    db = store.connect(pg_url)
    rows = [mention(f"p{i}", "text", author_id=f"u{i % 50}", created_at=f"2026-11-{1 + i % 20:02d}T09:00:00Z")
            for i in range(500)]
    with db.atomic():
        store.upsert_mentions(db, rows)
        db.execute("UPDATE mentions SET sentiment = CASE WHEN id % 3 = 0 THEN 'negative' ELSE 'positive' END")
    db.execute("VACUUM ANALYZE mentions")  # as autovacuum leaves it: every page visible
    sql = store.outcomes._COMPLAINT_HISTORIES.format(brands="?")
    found = plan(db, sql, ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "Parcelo", 10])
    db.close()
    assert "Index Only Scan using mentions_author on mentions p" in found, found


NEWEST_FIRST = {
    "search": ("SELECT m.id FROM mentions m WHERE m.id > ? ORDER BY m.id DESC LIMIT 10", [0], "mentions_pkey"),
    "dashboard sample": (
        "SELECT created_at, id FROM mentions WHERE brand = ? AND platform = ? AND sentiment = ? "
        "AND created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT 10",
        ["Parcelo", "x", "negative", "a", "z"], "mentions_reputation"),
    "active inbox": ("SELECT m.id FROM mentions m WHERE m.status IN ('new', 'open', 'waiting') "
                     f"ORDER BY {store.inbox.INBOX_ORDERS['urgency']} LIMIT 50", [], "mentions_active_urgency"),
    "first complaints": (store.outcomes._NEWEST_STARTS.format(brands="?"), ["a", "z", "Parcelo", 10],
                         "complaint_starts_newest"),
}  # fmt: skip


def assert_read_off_its_index(url: str, read: str) -> None:
    """One of NEWEST_FIRST comes in order off its index, on a fresh connection (migrations applied)."""
    sql, params, index = NEWEST_FIRST[read]
    db = store.connect(url)
    found = plan(db, sql, params, sort=False)
    db.close()
    assert index in found and "Sort" not in found, found


@pytest.mark.parametrize("read", list(NEWEST_FIRST))
def test_newest_first_reads_walk_an_index_backwards_without_sorting(pg_url, read):
    assert_read_off_its_index(pg_url, read)


def test_0044_rebuilds_indexes_made_by_the_old_descending_translation(pg_url):
    db = store.connect(pg_url)
    with db.atomic():  # as 0004 made them on PostgreSQL before 0044
        for name, brand in (("mentions_active_urgency", ""), ("mentions_active_brand_urgency", "brand, ")):
            db.execute(f"DROP INDEX {name}")
            db.conn.raw.execute(f"CREATE INDEX {name} ON mentions ({brand}urgency DESC NULLS LAST, id DESC NULLS LAST) "
                                "WHERE status IN ('new', 'open', 'waiting')")  # fmt: skip
        db.execute("DELETE FROM _migrations WHERE name = '0044_descending_ids'")
    sql, params, _ = NEWEST_FIRST["active inbox"]
    assert "Sort" in plan(db, sql, params, sort=False), "the old index no longer serves the inbox's order"
    db.close()
    postgres.close_pools()
    assert_read_off_its_index(pg_url, "active inbox")


def test_schema_types_follow_sqlite(pg_url):
    db = store.connect(pg_url)
    types = dict(db.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'mentions'").fetchall())  # fmt: skip
    assert types["id"] == "bigint" and types["author_reach"] == "bigint" and types["urgency"] == "double precision"
    assert db.execute("SELECT is_identity FROM information_schema.columns WHERE table_name = 'mentions' "
                      "AND column_name = 'id'").fetchone()[0] == "YES"  # fmt: skip
    assert "mentions_fts" not in db.table_names()
    db.close()


def _open(url: str) -> list[str]:
    """Open a database in a child process and report the migrations applied."""
    return store.applied_migrations(store.connect(url))


def test_concurrent_first_open_applies_each_migration_once(pg_server):
    url = pg_server.url(pg_server.create_database())
    with ProcessPoolExecutor(4) as pool:
        results = list(pool.map(_open, [url] * 4))
    assert all(result == [name for name, _ in store.MIGRATIONS] for result in results)


def test_failed_migration_leaves_no_half_schema(pg_server, monkeypatch):
    url = pg_server.url(pg_server.create_database())
    broken = ("9999_broken", lambda db: store.run_script(db, "CREATE TABLE half (x TEXT);\nCREATE TABLE broken (;\n"))
    monkeypatch.setattr(store.schema, "MIGRATIONS", [*store.MIGRATIONS, broken])
    with pytest.raises(Exception, match="syntax error"):
        store.connect(url)
    db = store.connect(url, migrate=False)
    assert "half" not in db.table_names() and "mentions" not in db.table_names(), "the whole first run rolled back"
    db.close()
    postgres.close_pools(url)


def test_a_duplicate_user_and_a_bad_role_are_named(db):
    store.add_user(db, "sam", "hash", "agent")
    with pytest.raises(store.StoreError, match="already taken"):
        store.add_user(db, "SAM", "hash", "agent")
    with pytest.raises(store.StoreError, match="role must be one of"):
        store.add_user(db, "kim", "hash", "boss")


# --- settings ----------------------------------------------------------------------------------


def test_the_url_setting_and_its_environment_override(tmp_path, monkeypatch):
    config = write_config(tmp_path)
    use_database(config, "postgresql://earshot@db.example.com:5432/earshot")
    assert settings_mod.load(config).database == "postgresql://earshot@db.example.com:5432/earshot"
    monkeypatch.setenv("EARSHOT_DATABASE_URL", "postgresql://other@127.0.0.1/x")
    assert settings_mod.load(config).database == "postgresql://other@127.0.0.1/x"
    monkeypatch.delenv("EARSHOT_DATABASE_URL")
    (tmp_path / "plain").mkdir()
    assert settings_mod.load(write_config(tmp_path / "plain")).database.name == "earshot.db"


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://earshot:hunter2@db/earshot", "must not hold a password"),
    ("mysql://earshot@db/earshot", "expected a URL such as postgresql://"),
])  # fmt: skip
def test_a_bad_url_is_refused_naming_the_key(tmp_path, url, message):
    config = use_database(write_config(tmp_path), url)
    with pytest.raises(settings_mod.ConfigError, match=message) as caught:
        settings_mod.load(config)
    assert "storage.url" in str(caught.value) and "hunter2" not in str(caught.value)


def test_a_refused_connection_is_a_store_error_without_the_password(pg_server, monkeypatch):
    monkeypatch.setenv("EARSHOT_DATABASE_PASSWORD", "wrong-secret")
    url = pg_server.url(pg_server.template)
    postgres.close_pools(url)
    with pytest.raises(store.StoreError) as caught:
        store.connect(url)
    assert "password authentication failed" in str(caught.value) and "wrong-secret" not in str(caught.value)
    assert postgres.safe_url("postgresql://a:secret@h/db") == "postgresql://a:***@h/db"
    postgres.close_pools(url)


# --- several console processes on one database ------------------------------------------------------


@pytest.fixture
def two_consoles(tmp_path, pg_url):
    """Two `app.py serve` processes on one PostgreSQL database, with staff and a mention."""
    config = use_database(write_config(tmp_path), pg_url)
    settings = settings_mod.load(config)
    db = store.connect(pg_url)
    add_users(db)
    mention_id = add_mention(db, settings, "@ParceloHQ my parcel is lost")
    db.close()
    ports = [free_port(), free_port()]
    procs = [start(config, ["serve", "--port", str(port)], process_env({})) for port in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_until_serving(f"http://127.0.0.1:{port}/login", proc, seconds=120)
        yield [f"http://127.0.0.1:{port}" for port in ports], mention_id, pg_url
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def test_logins_throttle_and_claims_hold_across_console_processes(two_consoles):
    (first, second), mention_id, url = two_consoles
    sam = agent_session(first, "sam", PASSWORD)
    assert sam.get(f"{second}/", timeout=30, allow_redirects=False).status_code == 200, "one login serves both"
    page = sam.get(f"{first}/m/{mention_id}/reply", timeout=30).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert sam.post(f"{first}/m/{mention_id}/claim", data={"csrf_token": token}, timeout=30).status_code == 200
    alex = agent_session(second, "alex", PASSWORD)
    assert "Sam is replying to this mention" in alex.get(f"{second}/m/{mention_id}/reply", timeout=30).text
    for _ in range(5):
        assert login_answer(first, "pat", "nope") == 401
    assert login_answer(second, "pat", PASSWORD) == 429, "failed logins on one process throttle the other"
    page = sam.get(f"{second}/", timeout=30).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    sam.post(f"{second}/logout", data={"csrf_token": token}, timeout=30)
    assert sam.get(f"{first}/", timeout=30, allow_redirects=False).status_code == 302, "a logout ends both"


def login_answer(base: str, username: str, password: str) -> int:
    """The status a fresh browser gets when it logs in."""
    session = requests.Session()
    token = session.get(f"{base}/login", timeout=30).text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {"username": username, "password": password, "csrf_token": token}
    return session.post(f"{base}/login", data=data, timeout=30, allow_redirects=False).status_code


# --- two collect runs of one source at once ---------------------------------------------------------


def test_two_collect_runs_of_one_source_never_overlap_or_duplicate(tmp_path, pg_url):
    with FakeAPI() as api:
        api.seed()
        for i in range(250):
            api.add_tweet(f"Lumina Mobile outage report {i}", author=f"user{i}")
        config = use_database(write_config(tmp_path, replace=config_replacements(api)), pg_url)
        env = {**os.environ, **api.env()}
        command = [sys.executable, str(ROOT / "app.py"), "--config", str(config), "collect", "--source", "x",
                   "--no-classify"]  # fmt: skip
        stall = api.stall("GET", "/2/tweets/search/recent", after=1)  # the first run waits on its second page
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert stall.reached.wait(90), "the first run never reached its second page"
            second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            other = subprocess.run([*command[:-3], "--source", "reddit", "--no-classify"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=120)  # fmt: skip
        finally:
            stall.release.set()
        out = first.communicate(timeout=120)[0]
        assert second.returncode == 1 and "another collection run is collecting x" in second.stdout + second.stderr
        assert other.returncode == 0, "a run of another source is not held up: " + other.stdout + other.stderr
        assert first.returncode == 0, out
        racers = [threading.Thread(target=subprocess.run, args=(command,), kwargs={"cwd": ROOT, "env": env,
                   "capture_output": True, "timeout": 120}) for _ in range(2)]  # fmt: skip
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    db = store.connect(pg_url)
    total = db.execute("SELECT count(*) FROM mentions WHERE platform = 'x'").fetchone()[0]
    distinct = db.execute("SELECT count(DISTINCT external_id) FROM mentions WHERE platform = 'x'").fetchone()[0]
    assert total == distinct == 257, "the 250, the seed's 7, each once"
    runs = db.execute("SELECT count(*), sum(new) FROM collector_runs WHERE source = 'x' AND status = 'ok'").fetchone()
    assert runs[1] == 257 and runs[0] >= 2, "every stored mention was new to exactly one run"
    assert db.execute("SELECT count(*) FROM collector_runs WHERE status = 'running'").fetchone()[0] == 0
    db.close()


def test_the_server_works_out_the_response_times_python_does(pg_url):
    import random
    from datetime import timedelta

    from reputation import metrics

    rng = random.Random(7)
    db = store.connect(pg_url)
    rows = [mention(f"r{i}", "text", created_at=f"2026-11-{1 + i % 9:02d}T{i % 24:02d}:{i % 60:02d}:00Z")
            for i in range(300)]  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, rows)
        for mention_id, created in db.execute("SELECT id, created_at FROM mentions").fetchall():
            if rng.random() < 0.8:  # a few answers "before" the mention: a clock skew, counted as 0
                answered = store.parse_utc(created) + timedelta(seconds=rng.randint(-600, 90000))
                db.execute("UPDATE mentions SET first_response_at = ?, first_responder = ? WHERE id = ?",
                           [store.utc_text(answered), rng.choice(["sam", "alex", None]), mention_id])  # fmt: skip
    span = ("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z", ["Parcelo"], ["x"])
    expected = metrics.response_times(store.reputation_answered(db, *span), 60)
    found = store.reputation_response_times(db, *span, 60)
    db.close()
    assert set(found) == set(expected) == {None, "sam", "alex", "(unknown)"}
    for who, (n, median, p90, within) in expected.items():
        assert found[who] == (n, pytest.approx(median), pytest.approx(p90), within), who
    assert expected[None][0] > 150 and 0 < expected[None][3] < expected[None][0]
