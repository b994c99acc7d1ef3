"""The one home for Earshot's SQL: migrations, connections and named queries."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

import clock


class StoreError(Exception):
    """The database could not be opened or a write was refused."""


def utc_text(moment: datetime | None) -> str | None:
    """A datetime as the stored form of a time: UTC ISO-8601, seconds, 'Z' (None stays None)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def parse_utc(text: str | None) -> datetime | None:
    """A stored time as an aware UTC datetime (None or '' gives None)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def utcnow() -> str:
    """The current time as UTC ISO-8601 with seconds precision."""
    return utc_text(clock.now())


# --- Migrations -------------------------------------------------------------
# Each step has a name and never changes once it has shipped: add a new step
# instead. Steps run in order, each in its own transaction.

MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = []


def migration(name: str):
    """Register a named schema step."""

    def register(fn):
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_mentions")
def _m0001_mentions(db: sqlite_utils.Database) -> None:
    """Mentions, keyed by platform + external id, with full-text search."""
    run_script(
        db,
        """
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            external_id TEXT NOT NULL,
            brand TEXT NOT NULL,
            query TEXT,
            text TEXT NOT NULL,
            language TEXT,
            url TEXT,
            author_id TEXT,
            author_handle TEXT,
            author_name TEXT,
            author_reach INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            collected_at TEXT NOT NULL,
            like_count INTEGER NOT NULL DEFAULT 0,
            repost_count INTEGER NOT NULL DEFAULT 0,
            reply_count INTEGER NOT NULL DEFAULT 0,
            in_reply_to_id TEXT,
            conversation_id TEXT,
            thread_id TEXT,
            mentions_brand_handle INTEGER NOT NULL DEFAULT 0,
            in_reply_to_brand INTEGER NOT NULL DEFAULT 0,
            reply_via_api INTEGER NOT NULL DEFAULT 0,
            raw TEXT,
            status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'open', 'waiting', 'resolved', 'ignored')),
            assignee TEXT,
            sentiment TEXT CHECK (sentiment IN ('negative', 'neutral', 'positive')),
            sentiment_scores TEXT,
            sentiment_model TEXT,
            sentiment_low_confidence INTEGER NOT NULL DEFAULT 0,
            urgency REAL,
            urgency_parts TEXT,
            intents TEXT,
            scored_at TEXT,
            first_response_at TEXT,
            updated_at TEXT NOT NULL,
            UNIQUE (platform, external_id)
        );
        -- Indexes serve the inbox sorts and filters and the dashboard's date
        -- ranges. Columns empty at collection time get partial indexes, so
        -- ingest only pays for the indexes it needs.
        CREATE INDEX mentions_brand_status_urgency ON mentions (brand, status, urgency DESC);
        CREATE INDEX mentions_status_urgency ON mentions (status, urgency DESC);
        CREATE INDEX mentions_brand_created ON mentions (brand, created_at);
        CREATE INDEX mentions_created ON mentions (created_at);
        CREATE INDEX mentions_author ON mentions (platform, author_id, created_at);
        CREATE INDEX mentions_unscored ON mentions (id) WHERE scored_at IS NULL;
        CREATE INDEX mentions_assignee ON mentions (assignee, status) WHERE assignee IS NOT NULL;
        CREATE INDEX mentions_sentiment_created ON mentions (sentiment, created_at)
            WHERE sentiment IS NOT NULL;
        CREATE INDEX mentions_language ON mentions (language, urgency DESC)
            WHERE language IS NOT NULL AND language != 'en';
        CREATE INDEX mentions_conversation ON mentions (conversation_id)
            WHERE conversation_id IS NOT NULL;

        -- Trigram tokens find substrings in any script, Thai and CJK included.
        -- columnsize=0: results are ordered by urgency, never by bm25 rank.
        CREATE VIRTUAL TABLE mentions_fts USING fts5(
            text, content='mentions', content_rowid='id', tokenize='trigram', columnsize=0
        );
        CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
            INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
        END;
        """
    )


@migration("0002_people_and_work")
def _m0002_people_and_work(db: sqlite_utils.Database) -> None:
    """Authors, staff users, tags, notes, corrections, replies and the audit log."""
    run_script(
        db,
        """
        CREATE TABLE authors (
            platform TEXT NOT NULL,
            author_id TEXT NOT NULL,
            handle TEXT,
            name TEXT,
            reach INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (platform, author_id)
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE tags (
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            created_by TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (mention_id, tag)
        );
        CREATE INDEX tags_tag ON tags (tag);
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            author TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX notes_mention ON notes (mention_id);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            field TEXT NOT NULL CHECK (field IN ('sentiment', 'urgent')),
            value TEXT NOT NULL,
            author TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX corrections_mention ON corrections (mention_id);
        CREATE TABLE replies (
            id INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions(id),
            idempotency_key TEXT NOT NULL UNIQUE,
            author TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'sent', 'failed', 'manual', 'demo')),
            external_id TEXT,
            url TEXT,
            error TEXT,
            override INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX replies_mention ON replies (mention_id);
        CREATE INDEX replies_sent ON replies (status, sent_at);
        CREATE TABLE claims (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
            username TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE saved_replies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            body TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            mention_id INTEGER,
            detail TEXT
        );
        CREATE INDEX audit_mention ON audit_log (mention_id, at);
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL COLLATE NOCASE,
            address TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX login_attempts_key ON login_attempts (username, address, at);
        """
    )


@migration("0003_collection")
def _m0003_collection(db: sqlite_utils.Database) -> None:
    """Collector cursors and run history, plus small key-value metadata."""
    run_script(
        db,
        """
        CREATE TABLE cursors (
            source TEXT NOT NULL,
            brand TEXT NOT NULL,
            query TEXT NOT NULL,
            value TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source, brand, query)
        );
        CREATE TABLE collector_runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'rate_limited', 'error', 'skipped')),
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            pages INTEGER NOT NULL DEFAULT 0,
            rate_limit_remaining INTEGER,
            rate_limit_reset TEXT,
            error TEXT
        );
        CREATE INDEX collector_runs_source ON collector_runs (source, started_at);
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        """
    )


@migration("0004_console_indexes")
def _m0004_console_indexes(db: sqlite_utils.Database) -> None:
    """Partial indexes for the default (active) inbox, threads and claims."""
    run_script(
        db,
        """
        CREATE INDEX mentions_active_urgency ON mentions (urgency DESC, id DESC)
            WHERE status IN ('new', 'open', 'waiting');
        CREATE INDEX mentions_active_brand_urgency ON mentions (brand, urgency DESC, id DESC)
            WHERE status IN ('new', 'open', 'waiting');
        CREATE INDEX mentions_thread ON mentions (platform, thread_id) WHERE thread_id IS NOT NULL;
        CREATE INDEX claims_expiry ON claims (expires_at);
        """
    )


@migration("0010_reputation")
def _m0010_reputation(db: sqlite_utils.Database) -> None:
    """Spike alerts and their deliveries, plus partial indexes for the dashboard.

    Each new mentions index covers a column that is empty when a mention is collected,
    so ingest pays nothing for it; classification, replies and assignment pay one entry.
    """
    run_script(
        db,
        """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            brand TEXT NOT NULL,
            kinds TEXT NOT NULL,
            window_start TEXT NOT NULL,
            window_end TEXT NOT NULL,
            mentions INTEGER NOT NULL,
            baseline REAL NOT NULL,
            negative_share REAL,
            baseline_negative_share REAL,
            reason TEXT NOT NULL,
            detail TEXT,
            created_at TEXT NOT NULL,
            dismissed_at TEXT,
            dismissed_by TEXT
        );
        CREATE INDEX alerts_brand_window ON alerts (brand, window_end);
        CREATE INDEX alerts_created ON alerts (created_at);
        CREATE TABLE alert_deliveries (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            sent_at TEXT,
            UNIQUE (alert_id, channel)
        );
        CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX mentions_reputation ON mentions (brand, platform, sentiment, created_at)
            WHERE sentiment IS NOT NULL;
        CREATE INDEX mentions_answered ON mentions (brand, platform, created_at, first_response_at)
            WHERE first_response_at IS NOT NULL;
        CREATE INDEX mentions_assigned ON mentions (created_at, assignee, brand, platform, first_response_at)
            WHERE assignee IS NOT NULL;
        """
    )


@migration("0011_reputation_first_replies")
def _m0011_reputation_first_replies(db: sqlite_utils.Database) -> None:
    """Who answered a mention first, in one index seek (the dashboard's per-agent figures)."""
    run_script(
        db,
        """
        CREATE INDEX replies_first_public ON replies (mention_id, sent_at, author, status)
            WHERE status IN ('sent', 'manual', 'demo');
        """
    )


@migration("0012_bulk_search_index")
def _m0012_bulk_search_index(db: sqlite_utils.Database) -> None:
    """Index new mentions for search once per batch, not per row; re-index only changed text.

    A per-row FTS5 trigger costs more than the rest of an insert; upsert_mentions
    now indexes each batch's new rows with one INSERT ... SELECT in the same
    transaction.
    """
    run_script(
        db,
        """
        DROP TRIGGER mentions_fts_insert;
        DROP TRIGGER mentions_fts_update;
        CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions
        WHEN old.text IS NOT new.text BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
        END;
        """,
    )


@migration("0013_leaner_ingest")
def _m0013_leaner_ingest(db: sqlite_utils.Database) -> None:
    """Drop the two active-inbox indexes and let search segments merge less often.

    The active inbox by urgency now merges the top rows of each active status off
    the (brand, status, urgency) and (status, urgency) indexes, so the two partial
    copies of that order only cost every insert. An FTS5 automerge of 16 segments
    (default 4) rewrites each search token fewer times as mentions arrive.
    """
    run_script(
        db,
        """
        DROP INDEX mentions_active_urgency;
        DROP INDEX mentions_active_brand_urgency;
        INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('automerge', 16);
        """,
    )


@migration("0014_login_attempts_by_address")
def _m0014_login_attempts_by_address(db: sqlite_utils.Database) -> None:
    """Count failed logins per address across usernames (the cap on password spraying)."""
    run_script(db, "CREATE INDEX login_attempts_address ON login_attempts (address, at);")


@migration("0015_text_without_nul")
def _m0015_text_without_nul(db: sqlite_utils.Database) -> None:
    """Show NUL characters already stored in mention text as U+FFFD (the search index follows).

    SQLite's own replace() stops at a NUL, so the rows are rewritten from Python.
    """
    columns = ("text", "author_handle", "author_name")
    found = db.conn.execute(
        f"SELECT id, {', '.join(columns)} FROM mentions WHERE "
        + " OR ".join(f"instr({c}, char(0)) > 0" for c in columns)
    ).fetchall()
    db.conn.executemany(
        f"UPDATE mentions SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
        [[_storable(v) for v in values] + [mention_id] for mention_id, *values in found],
    )


@migration("0016_login_sessions")
def _m0016_login_sessions(db: sqlite_utils.Database) -> None:
    """Console logins kept on the server, so logging out ends a session even where its cookie was copied."""
    run_script(
        db,
        """
        CREATE TABLE login_sessions (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            stamp TEXT NOT NULL,
            address TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX login_sessions_user ON login_sessions (user_id);
        CREATE INDEX login_sessions_created ON login_sessions (created_at);
        """,
    )


@migration("0017_collector_run_process")
def _m0017_collector_run_process(db: sqlite_utils.Database) -> None:
    """Record the process (pid and host) of each collector run, so a run whose process died can be closed."""
    run_script(
        db,
        """
        ALTER TABLE collector_runs ADD COLUMN pid INTEGER;
        ALTER TABLE collector_runs ADD COLUMN host TEXT;
        """,
    )


WRITE_WAIT_SECONDS = 300.0  # how long a writer waits its turn before giving up with StoreBusy


class StoreBusy(StoreError):
    """Another process held the write lock for longer than a writer waits."""


class Database(sqlite_utils.Database):
    """A sqlite-utils database whose transactions take the write lock first.

    SQLite cannot make a transaction that has already read wait for the lock
    when it then writes (in WAL mode it fails at once with "database is
    locked"), so every `atomic()` block starts with BEGIN IMMEDIATE, which
    waits its turn. The connection runs in autocommit mode: nothing opens a
    transaction behind the caller's back, and a lone statement commits at once.
    """

    wait_seconds = WRITE_WAIT_SECONDS

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        """One transaction (a savepoint when nested) that holds the write lock from its start."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        begin_immediate(self.conn, self.wait_seconds)
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


def begin_immediate(conn: sqlite3.Connection, wait_seconds: float = WRITE_WAIT_SECONDS) -> None:
    """Start a write transaction, waiting (beyond the busy timeout) while another writer holds the lock."""
    _when_unlocked(lambda: conn.execute("BEGIN IMMEDIATE"), wait_seconds)


def _when_unlocked(action: Callable[[], object], wait_seconds: float) -> None:
    """Run `action`, trying again while SQLite says another connection holds the lock."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"the database stayed locked by another writer for {wait_seconds:.0f} s; nothing was written"
                ) from exc
            time.sleep(0.05)


def connect(path: str | Path, migrate: bool = True) -> Database:
    """Open the database in WAL mode, applying any pending migrations."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        db = Database(conn)
        _use_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages stay cached at a million rows
        # Each upserted row opens a statement journal; kept in memory it costs
        # no temp-file writes (on disk it was most of ingest's system time).
        db.execute("PRAGMA temp_store=MEMORY")
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    if migrate:
        apply_migrations(db)
    return db


def _use_wal(db: sqlite_utils.Database, wait_seconds: float = 30.0) -> None:
    """Switch a database to WAL (it stays so), waiting while another process holds the lock.

    SQLite answers "database is locked" at once, without its busy handler, when
    two processes switch a new file at the same moment; so wait here instead.
    """
    _when_unlocked(lambda: db.execute("PRAGMA journal_mode=WAL"), wait_seconds)


def run_script(db: sqlite_utils.Database, sql: str) -> None:
    """Run a multi-statement schema script inside the current transaction.

    (sqlite3's executescript would commit first, so a failed step could leave
    half a schema behind.)
    """
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.conn.execute(statement)
            statement = ""
    if statement.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in statement.splitlines()
    ):
        raise StoreError(f"incomplete SQL statement in migration: {statement.strip()[:80]}")


def _pending(db: sqlite_utils.Database) -> list[tuple[str, Callable]]:
    """Registered migrations not yet recorded as applied."""
    db.conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.conn.execute("SELECT name FROM _migrations")}
    return [(name, step) for name, step in MIGRATIONS if name not in done]


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return their names.

    Each step takes the write lock first and re-checks, so two processes
    opening a new database at once never apply the same step twice.
    """
    if db.conn.in_transaction:
        db.conn.commit()
    if not _pending(db):
        return []
    applied = []
    for name, step in MIGRATIONS:
        begin_immediate(db.conn)
        try:
            if (name, step) in _pending(db):
                step(db)
                db.conn.execute("INSERT INTO _migrations VALUES (?, ?)", [name, utcnow()])
                applied.append(name)
            db.conn.execute("COMMIT")
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
    return applied


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations already applied, in order."""
    return [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()]


# --- Mentions -----------------------------------------------------------------

# Columns a collector or an import may write. Staff fields (status, assignee,
# tags, notes, corrections) and classifier fields are deliberately absent, so
# re-collecting a mention can never reset them.
COLLECTED_COLUMNS = (
    "platform", "external_id", "brand", "query", "text", "language", "url",
    "author_id", "author_handle", "author_name", "author_reach",
    "created_at", "collected_at", "like_count", "repost_count", "reply_count",
    "in_reply_to_id", "conversation_id", "thread_id",
    "mentions_brand_handle", "in_reply_to_brand", "reply_via_api", "raw",
)  # fmt: skip

# On re-collection only what can change on the platform is refreshed.
REFRESHED_COLUMNS = (
    "text", "author_handle", "author_name", "author_reach",
    "like_count", "repost_count", "reply_count", "raw",
)  # fmt: skip

_UPSERT_SQL = (
    f"INSERT INTO mentions ({', '.join(COLLECTED_COLUMNS)}, updated_at) "
    f"VALUES ({', '.join('?' for _ in COLLECTED_COLUMNS)}, ?) "
    "ON CONFLICT (platform, external_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in REFRESHED_COLUMNS)
    + ", updated_at = excluded.updated_at"
)


_COLUMN_AT = {name: i for i, name in enumerate(COLLECTED_COLUMNS)}
_COUNT_AT = [_COLUMN_AT[c] for c in ("author_reach", "like_count", "repost_count", "reply_count")]
_FLAG_AT = [_COLUMN_AT[c] for c in ("mentions_brand_handle", "in_reply_to_brand", "reply_via_api")]


def _marks(values) -> str:
    """One ? per value, for an IN (...) list."""
    return ", ".join("?" for _ in values)


def _mention_params(row: dict, now: str) -> list:
    """Order one mention dict as upsert parameters."""
    params = [row.get(c) for c in COLLECTED_COLUMNS]
    raw = params[_COLUMN_AT["raw"]]
    if raw is not None and not isinstance(raw, str):
        params[_COLUMN_AT["raw"]] = json.dumps(raw, ensure_ascii=False)
    params = [_storable(p) for p in params]
    for i in _COUNT_AT:
        params[i] = int(params[i] or 0)
    for i in _FLAG_AT:
        params[i] = 1 if params[i] else 0
    params[_COLUMN_AT["external_id"]] = str(params[_COLUMN_AT["external_id"]])
    params[_COLUMN_AT["collected_at"]] = params[_COLUMN_AT["collected_at"]] or now
    params.append(now)
    return params


def _storable(value):
    """Text as it is stored: a NUL or a lone surrogate becomes U+FFFD.

    SQLite's search index and the browser both stop reading at a NUL, and a
    lone surrogate (from a malformed payload) is not text SQLite can hold.
    Imports refuse such lines with a reason; collected posts keep the rest.
    """
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


def upsert_mentions(db: sqlite_utils.Database, rows: Iterable[dict]) -> tuple[int, int]:
    """Insert or refresh mentions by (platform, external_id); return (new, updated).

    Call inside `db.atomic()` together with the cursor that covers the rows.
    """
    rows = list(_last_of_each(rows))
    if not rows:
        return 0, 0
    now = utcnow()
    keys = {(r["platform"], str(r["external_id"])) for r in rows}
    existing = mention_ids(db, keys)
    last_id = db.conn.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]
    db.conn.executemany(_UPSERT_SQL, [_mention_params(r, now) for r in rows])
    # New rows always get ids above the old maximum (we hold the write lock).
    db.conn.execute("INSERT INTO mentions_fts (rowid, text) SELECT id, text FROM mentions WHERE id > ?", [last_id])
    _upsert_authors(db, rows, now)
    return len(keys) - len(existing), len(existing)


def _last_of_each(rows: Iterable[dict]) -> Iterable[dict]:
    """The rows with one per (platform, external_id) key, the last one winning.

    Two versions of one mention in a single statement batch would index the
    search text twice for one row, so a batch never holds the same key twice.
    """
    by_key = {(r["platform"], str(r["external_id"])): r for r in rows}
    return by_key.values()


def mention_ids(db: sqlite_utils.Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The stored ids of mentions by (platform, external_id) key; keys not stored are absent."""
    found: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in {(p, str(e)) for p, e in keys}:
        by_platform.setdefault(platform, []).append(external_id)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT external_id, id FROM mentions WHERE platform = ? AND external_id IN ({_marks(chunk)})"
            found.update(((platform, e), i) for e, i in db.execute(sql, [platform, *chunk]))
    return found


def _upsert_authors(db: sqlite_utils.Database, rows: list[dict], now: str) -> None:
    """Keep the authors table current with the newest handle, name and reach."""
    params = [
        (r["platform"], r["author_id"], r.get("author_handle"), r.get("author_name"),
         int(r.get("author_reach") or 0), r.get("created_at") or now, r.get("created_at") or now)
        for r in rows
        if r.get("author_id")
    ]  # fmt: skip
    db.conn.executemany(
        "INSERT INTO authors (platform, author_id, handle, name, reach, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, author_id) DO UPDATE SET "
        "handle = excluded.handle, name = excluded.name, reach = excluded.reach, "
        "first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen)",
        params,
    )


def _count(db: sqlite_utils.Database, table: str) -> int:
    """Exact row count of a table."""
    return db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


def count_mentions(db: sqlite_utils.Database) -> int:
    """How many mentions the database holds."""
    return _count(db, "mentions")


def iter_mentions(db: sqlite_utils.Database, batch: int = 1000) -> Iterator[dict]:
    """Every mention in id order, streamed in batches, with its tags."""
    last = 0
    while True:
        rows = list(
            db.query(
                "SELECT m.*, (SELECT group_concat(tag, ',') FROM tags t WHERE t.mention_id = m.id)"
                " AS tags FROM mentions m WHERE id > ? ORDER BY id LIMIT ?",
                [last, batch],
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


# --- Metadata -------------------------------------------------------------------


def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    """A value from the meta table, or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Set a value in the meta table."""
    with db.atomic():
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


# --- Users and audit ------------------------------------------------------------

ROLES = ("admin", "agent", "viewer")


def add_user(db, username: str, password_hash: str, role: str, display_name: str | None = None) -> int:
    """Create a staff user; raise StoreError if the name is taken."""
    try:
        with db.atomic():
            cur = db.execute(
                "INSERT INTO users (username, display_name, password_hash, role, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [username, display_name or username, password_hash, role, utcnow()],
            )
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"cannot add user {username!r}: {_integrity_reason(exc)}") from exc
    return cur.lastrowid


def _integrity_reason(exc: sqlite3.IntegrityError) -> str:
    """A short human reason for a constraint failure."""
    text = str(exc)
    if "UNIQUE" in text:
        return "that name is already taken"
    if "CHECK" in text:
        return "invalid value (role must be one of " + ", ".join(ROLES) + ")"
    return text


def get_user(db, username: str) -> dict | None:
    """A user row by name (case-insensitive), or None."""
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
    return rows[0] if rows else None


def list_users(db) -> list[dict]:
    """All users, by name."""
    return list(db.query("SELECT id, username, display_name, role, created_at, disabled FROM users ORDER BY username"))


def update_user(db, username: str, **fields) -> None:
    """Change a user's role or password hash; raise StoreError if unknown."""
    allowed = {"role", "password_hash", "display_name", "disabled"}
    if not fields or set(fields) - allowed:
        raise StoreError(f"cannot update fields {sorted(set(fields) - allowed)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    try:
        with db.atomic():
            cur = db.execute(f"UPDATE users SET {sets} WHERE username = ?", [*fields.values(), username])
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"cannot update user {username!r}: {_integrity_reason(exc)}") from exc
    if cur.rowcount == 0:
        raise StoreError(f"no user named {username!r}")


def start_login_session(db, session_id: str, user_id: int, stamp: str, address: str | None,
                        keep_minutes: float) -> None:  # fmt: skip
    """Record a console login, forgetting logins older than `keep_minutes`."""
    with db.atomic():
        db.execute(
            "INSERT INTO login_sessions (id, user_id, stamp, address, created_at) VALUES (?, ?, ?, ?, ?)",
            [session_id, user_id, stamp, address, utcnow()],
        )
        db.execute("DELETE FROM login_sessions WHERE created_at < ?", [_minutes_from_now(-keep_minutes)])


def login_session_user(db, session_id: str, max_age_minutes: float) -> dict | None:
    """The user row of a login session younger than `max_age_minutes`, plus its `session_stamp`; else None."""
    sql = ("SELECT u.*, s.stamp AS session_stamp FROM login_sessions s JOIN users u ON u.id = s.user_id "
           "WHERE s.id = ? AND s.created_at > ?")  # fmt: skip
    rows = list(db.query(sql, [session_id, _minutes_from_now(-max_age_minutes)]))
    return rows[0] if rows else None


def end_login_session(db, session_id: str) -> None:
    """Forget one login session (a logout)."""
    with db.atomic():
        db.execute("DELETE FROM login_sessions WHERE id = ?", [session_id])


def end_user_sessions(db, username: str) -> int:
    """Forget every login session of a user; return how many there were."""
    with db.atomic():
        cur = db.execute(
            "DELETE FROM login_sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?)", [username]
        )
    return cur.rowcount


def audit(db, actor: str, action: str, mention_id: int | None = None, detail: dict | None = None,
          at: str | None = None) -> None:  # fmt: skip
    """Append one entry to the audit log at `at` (default now), inside the caller's transaction."""
    text = json.dumps(detail, ensure_ascii=False) if detail else None
    db.execute(
        "INSERT INTO audit_log (at, actor, action, mention_id, detail) VALUES (?, ?, ?, ?, ?)",
        [at or utcnow(), actor, action, mention_id, text],
    )


def sentiment_corrections(db: sqlite_utils.Database) -> list[dict]:
    """The latest staff sentiment correction per mention, as training rows."""
    return list(
        db.query(
            "SELECT m.text AS text, c.value AS label FROM corrections c "
            "JOIN mentions m ON m.id = c.mention_id "
            "WHERE c.field = 'sentiment' AND c.id = ("
            "  SELECT max(id) FROM corrections WHERE mention_id = c.mention_id AND field = 'sentiment')"
            " ORDER BY c.id"
        )
    )


# --- Console ----------------------------------------------------------------------
# Named queries for the web console (web/). Lists select only the columns a
# page shows, never `raw`, so a page of 50 stays small on a big database.

STATUSES = ("new", "open", "waiting", "resolved", "ignored")
ACTIVE_STATUSES = ("new", "open", "waiting")
PUBLIC_REPLY_STATUSES = ("sent", "manual", "demo")


def _status_in(statuses: tuple[str, ...]) -> str:
    """A `status IN ('a', 'b')` condition with the values written out (partial indexes need the text)."""
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


ACTIVE_SQL = "m." + _status_in(ACTIVE_STATUSES)
# A public reply, and a reply that blocks another (public or still being sent).
_PUBLIC_SQL = _status_in(PUBLIC_REPLY_STATUSES)
_TAKEN_SQL = _status_in(("pending", *PUBLIC_REPLY_STATUSES))
INBOX_ORDERS = {
    "urgency": "m.urgency DESC, m.id DESC",
    "newest": "m.created_at DESC, m.id DESC",
    "waiting": "m.created_at ASC, m.id ASC",
}
LIST_COLUMNS = (
    "m.id, m.platform, m.external_id, m.brand, m.text, m.language, m.url, m.author_id, "
    "m.author_handle, m.author_name, m.author_reach, m.created_at, m.status, m.assignee, "
    "m.sentiment, m.sentiment_low_confidence, m.urgency, m.first_response_at, m.reply_via_api"
)


class ReplyConflict(StoreError):
    """The mention already has a public (or in-flight) reply and no override was given."""

    def __init__(self, reply: dict):
        super().__init__(f"mention {reply['mention_id']} already has a {reply['status']} reply")
        self.reply = reply


def _minutes_from_now(minutes: float) -> str:
    """UTC ISO-8601 time `minutes` from now (negative for the past)."""
    return utc_text(clock.now() + timedelta(minutes=minutes))


SEARCH_WINDOW = 5000
BROAD_FILTERS = {"status", "brand", "platform", "sentiment", "language"}


def _inbox_where(filters: dict) -> tuple[str, list]:
    """WHERE clause and parameters for the inbox filters, apart from the FTS match.

    Status defaults to 'active'. Search terms shorter than three characters (too
    short for the trigram index) become substring matches here.
    """
    clauses, params = [], []
    status = filters.get("status") or "active"
    if status == "active":
        clauses.append(ACTIVE_SQL)
    elif status != "all":
        clauses.append("m.status = ?")
        params.append(status)
    for column in ("brand", "platform", "sentiment", "language"):
        if filters.get(column):
            clauses.append(f"m.{column} = ?")
            params.append(filters[column])
    if filters.get("assignee") == "none":
        clauses.append("m.assignee IS NULL")
    elif filters.get("assignee"):
        clauses.append("m.assignee = ?")
        params.append(filters["assignee"])
    for key, op in (("since", ">="), ("until", "<")):
        if filters.get(key):
            clauses.append(f"m.created_at {op} ?")
            params.append(filters[key])
    if filters.get("tag"):
        clauses.append("m.id IN (SELECT mention_id FROM tags WHERE tag = ?)")
        params.append(filters["tag"])
    for term in (t for t in (filters.get("q") or "").split() if len(t) < 3):
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(m.text LIKE ? ESCAPE '\\' OR m.author_handle LIKE ? ESCAPE '\\')")
        params.extend([pattern, pattern])
    return " AND ".join(clauses) or "1", params


def fts_match(query: str | None) -> str | None:
    """An FTS5 MATCH expression for the search terms of 3+ characters (None if there are none)."""
    terms = [t for t in (query or "").split() if len(t) >= 3]
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms) or None


def _merges_active(filters: dict, order: str) -> bool:
    """Whether this page is the active inbox by urgency.

    That page is read as three short per-status lists merged together: with
    `status = ?` each list can be read in urgency order off an index and stop
    after one page, which `status IN (...)` cannot.
    """
    return order == "urgency" and (filters.get("status") or "active") == "active"


def _active_by_urgency(filters: dict, limit: int, offset: int) -> tuple[str, list]:
    """SQL for a page of the active inbox by urgency: the top rows of each active status, merged.

    Under broad filters only, each list is pinned to the (brand, status, urgency)
    or (status, urgency) index, which SQLite's planner does not always pick.
    """
    index = ""
    if not {key for key, value in filters.items() if value} - BROAD_FILTERS:
        index = "INDEXED BY " + ("mentions_brand_status_urgency" if filters.get("brand") else "mentions_status_urgency")
    parts, params = [], []
    for status in ACTIVE_STATUSES:
        where, where_params = _inbox_where({**filters, "status": status})
        parts.append(
            f"SELECT * FROM (SELECT {LIST_COLUMNS} FROM mentions m {index} "
            f"WHERE {where} ORDER BY {INBOX_ORDERS['urgency']} LIMIT ?)"
        )
        params += [*where_params, limit + offset]
    # Materialized, so tags and claims are looked up for the one page only.
    sql = (
        f"WITH page AS MATERIALIZED (SELECT * FROM ({' UNION ALL '.join(parts)}) m "
        f"ORDER BY {INBOX_ORDERS['urgency']} LIMIT ? OFFSET ?) "
        f"SELECT m.*, {_EXTRAS} FROM page m ORDER BY {INBOX_ORDERS['urgency']}"
    )
    return sql, [*params, limit, offset, utcnow()]


def _matches(filters: dict, columns: str, window: int, after_id: int = 0) -> tuple[str, list]:
    """SQL for the newest `window` search matches passing the filters (the FTS index drives it)."""
    where, params = _inbox_where(filters)
    sql = (
        f"SELECT {columns} FROM mentions_fts f JOIN mentions m ON m.id = f.rowid "
        f"WHERE mentions_fts MATCH ? AND f.rowid > ? AND {where} ORDER BY f.rowid DESC LIMIT ?"
    )
    return sql, [fts_match(filters.get("q")), after_id, *params, window]


_EXTRAS = (
    "(SELECT group_concat(tag, ',') FROM tags t WHERE t.mention_id = m.id) AS tags, "
    "(SELECT coalesce(u.display_name, c.username) FROM claims c LEFT JOIN users u "
    "ON u.username = c.username WHERE c.mention_id = m.id AND c.expires_at > ?) AS claimed_by"
)
_ORDER_KEYS = {
    "urgency": lambda r: (-(r["urgency"] if r["urgency"] is not None else -1), -r["id"]),
    "newest": lambda r: (_negate(r["created_at"]), -r["id"]),
    "waiting": lambda r: (r["created_at"], r["id"]),
}


def _negate(text: str) -> tuple[int, ...]:
    """A sort key that orders strings descending."""
    return tuple(-ord(c) for c in text)


def inbox_mentions(db, filters: dict, order: str = "urgency", limit: int = 50, offset: int = 0) -> list[dict]:
    """One page of the inbox (no search), with each mention's tags and live claim."""
    if _merges_active(filters, order):
        return list(db.query(*_active_by_urgency(filters, limit, offset)))
    where, params = _inbox_where(filters)
    sql = (
        f"SELECT {LIST_COLUMNS}, {_EXTRAS} FROM mentions m "
        f"WHERE {where} ORDER BY {INBOX_ORDERS[order]} LIMIT ? OFFSET ?"
    )
    return list(db.query(sql, [utcnow(), *params, limit, offset]))


def inbox_status_counts(db, filters: dict, cap: int = 1000,
                        budget_ms: float = 5.0) -> tuple[dict[str, int], set[str]]:  # fmt: skip
    """Mentions per status under the other filters, and the statuses whose count is only a lower bound.

    Each count stops at `cap` rows or after `budget_ms`, so a tab says "1,000+"
    (or "212+") instead of scanning a million rows for a rare combination.
    """
    counts, partial = {}, set()
    for status in STATUSES:
        where, params = _inbox_where({**filters, "status": status})
        counts[status], exact = _count_upto(db, f"SELECT 1 FROM mentions m WHERE {where}", params, cap, budget_ms)
        if not exact:
            partial.add(status)
    return counts, partial


def _count_upto(db, sql: str, params: list, cap: int, budget_ms: float) -> tuple[int, bool]:
    """Count the rows of `sql`, stopping at `cap` or when the time budget runs out; (count, exact)."""
    deadline = time.perf_counter() + budget_ms / 1000
    db.conn.set_progress_handler(lambda: time.perf_counter() > deadline, 5_000)
    count = 0
    try:
        for _ in db.execute(f"{sql} LIMIT ?", [*params, cap]):
            count += 1
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        return count, False
    finally:
        db.conn.set_progress_handler(None, 0)
    return count, count < cap


def search_inbox(db, filters: dict, order: str = "urgency", limit: int = 50,
                 offset: int = 0) -> tuple[list[dict], dict[str, int], bool]:  # fmt: skip
    """A search page: (rows, counts per status, whether the match window was full).

    One pass over the FTS index collects the newest SEARCH_WINDOW matches that
    pass the other filters; counts, status filter, ranking and paging work on
    that window, so a common word costs the same as a rare one.
    """
    sql, params = _matches({**filters, "status": "all"}, "m.id, m.status, m.urgency, m.created_at", SEARCH_WINDOW + 1)
    window = list(db.query(sql, params))
    full = len(window) > SEARCH_WINDOW
    window = window[:SEARCH_WINDOW]
    counts = dict.fromkeys(STATUSES, 0)
    for row in window:
        counts[row["status"]] += 1
    status = filters.get("status") or "active"
    wanted = {"active": ACTIVE_STATUSES, "all": STATUSES}.get(status, (status,))
    page = sorted((r for r in window if r["status"] in wanted), key=_ORDER_KEYS[order])[offset : offset + limit]
    return mentions_by_ids(db, [r["id"] for r in page]), counts, full


def mentions_by_ids(db, ids: list[int]) -> list[dict]:
    """List rows (with tags and claim) for these ids, in the order given."""
    if not ids:
        return []
    rows = {r["id"]: r for r in db.query(f"SELECT {LIST_COLUMNS}, {_EXTRAS} FROM mentions m WHERE m.id IN ({_marks(ids)})",
                                         [utcnow(), *ids])}  # fmt: skip
    return [rows[i] for i in ids if i in rows]


def newest_mention_id(db) -> int:
    """The highest mention id (0 for an empty database)."""
    return db.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]


def mentions_since(db, filters: dict, since_id: int, limit: int = 10) -> list[dict]:
    """Mentions matching the filters that arrived after `since_id`, newest first."""
    if fts_match(filters.get("q")):
        sql, params = _matches(filters, LIST_COLUMNS, limit, after_id=since_id)
        return list(db.query(sql, params))
    where, params = _inbox_where(filters)
    sql = f"SELECT {LIST_COLUMNS} FROM mentions m WHERE m.id > ? AND {where} ORDER BY m.id DESC LIMIT ?"
    return list(db.query(sql, [since_id, *params, limit]))


def distinct_values(db, column: str, limit: int = 200) -> list[str]:
    """Distinct values of an indexed column, by skip-scan (fast on big tables).

    Languages other than English have a partial index; English is assumed present.
    """
    table, col, where = {
        "language": ("mentions", "language", "language IS NOT NULL AND language != 'en' AND "),
        "platform": ("mentions", "platform", ""),
        "tag": ("tags", "tag", ""),
    }[column]
    sql = (
        f"WITH RECURSIVE v(x) AS (SELECT min({col}) FROM {table} WHERE {where}{col} > '' UNION ALL "
        f"SELECT (SELECT min({col}) FROM {table} WHERE {where}{col} > v.x) FROM v WHERE v.x IS NOT NULL) "
        "SELECT x FROM v WHERE x IS NOT NULL LIMIT ?"
    )
    values = [row[0] for row in db.execute(sql, [limit]).fetchall()]
    return sorted(["en", *values]) if column == "language" else values


def get_mention(db, mention_id: int) -> dict | None:
    """One mention with every column, or None."""
    rows = list(db.query("SELECT * FROM mentions WHERE id = ?", [mention_id]))
    return rows[0] if rows else None


def get_author(db, platform: str, author_id: str | None) -> dict | None:
    """The author's stored profile, or None."""
    rows = list(db.query("SELECT * FROM authors WHERE platform = ? AND author_id = ?", [platform, author_id]))
    return rows[0] if rows else None


def author_mentions(db, mention: dict, limit: int = 10) -> list[dict]:
    """The author's other mentions, newest first."""
    sql = (
        f"SELECT {LIST_COLUMNS} FROM mentions m WHERE m.platform = ? AND m.author_id = ? AND m.id != ? "
        "ORDER BY m.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [mention["platform"], mention["author_id"], mention["id"], limit]))


def author_replies(db, mention: dict, limit: int = 10) -> list[dict]:
    """Our public replies to this author, on any of their mentions, newest first."""
    sql = (
        "SELECT r.*, m.text AS mention_text FROM mentions m JOIN replies r ON r.mention_id = m.id "
        f"WHERE m.platform = ? AND m.author_id = ? AND r.{_PUBLIC_SQL} "
        "ORDER BY r.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [mention["platform"], mention["author_id"], limit]))


def is_returning_customer(db, mention: dict) -> bool:
    """Whether we answered this author on an earlier mention."""
    sql = (
        "SELECT EXISTS (SELECT 1 FROM mentions p JOIN replies r ON r.mention_id = p.id "
        "WHERE p.platform = ? AND p.author_id = ? AND p.created_at < ? "
        f"AND r.{_PUBLIC_SQL})"
    )
    params = [mention["platform"], mention["author_id"], mention["created_at"]]
    return bool(db.execute(sql, params).fetchone()[0])


def thread_context(db, mention: dict, limit: int = 30) -> list[dict]:
    """Other mentions in the same conversation or thread, plus the parent, oldest first."""
    clauses, params = [], []
    for column, key in (("conversation_id", "conversation_id"), ("thread_id", "thread_id"),
                        ("external_id", "in_reply_to_id")):  # fmt: skip
        if mention.get(key):
            clauses.append(f"m.{column} = ?")
            params.append(mention[key])
    if not clauses:
        return []
    sql = (
        f"SELECT {LIST_COLUMNS} FROM mentions m WHERE m.platform = ? AND m.id != ? "
        f"AND ({' OR '.join(clauses)}) ORDER BY m.created_at LIMIT ?"
    )
    return list(db.query(sql, [mention["platform"], mention["id"], *params, limit]))


def mention_tags(db, mention_id: int) -> list[str]:
    """The mention's tags, alphabetically."""
    rows = db.execute("SELECT tag FROM tags WHERE mention_id = ? ORDER BY tag", [mention_id]).fetchall()
    return [row[0] for row in rows]


def mention_notes(db, mention_id: int) -> list[dict]:
    """Internal notes on a mention, oldest first."""
    return list(db.query("SELECT * FROM notes WHERE mention_id = ? ORDER BY id", [mention_id]))


def mention_corrections(db, mention_id: int) -> list[dict]:
    """Staff corrections of sentiment or urgency, newest first."""
    return list(db.query("SELECT * FROM corrections WHERE mention_id = ? ORDER BY id DESC", [mention_id]))


def mention_audit(db, mention_id: int, limit: int = 100) -> list[dict]:
    """The mention's audit trail, newest first."""
    sql = "SELECT * FROM audit_log WHERE mention_id = ? ORDER BY at DESC, id DESC LIMIT ?"
    return list(db.query(sql, [mention_id, limit]))


def mention_replies(db, mention_id: int) -> list[dict]:
    """Every reply attempt on a mention, oldest first."""
    return list(db.query("SELECT * FROM replies WHERE mention_id = ? ORDER BY id", [mention_id]))


def _existing_ids(db, ids: Iterable[int]) -> list[int]:
    """The subset of mention ids that exist."""
    ids = [int(i) for i in ids]
    if not ids:
        return []
    return [r[0] for r in db.execute(f"SELECT id FROM mentions WHERE id IN ({_marks(ids)})", ids).fetchall()]


def set_status(db, ids: Iterable[int], status: str, actor: str) -> int:
    """Move mentions to a workflow status; return how many changed."""
    if status not in STATUSES:
        raise StoreError(f"unknown status {status!r}")
    found = _existing_ids(db, ids)
    with db.atomic():
        for mention_id in found:
            db.execute("UPDATE mentions SET status = ?, updated_at = ? WHERE id = ?", [status, utcnow(), mention_id])
            audit(db, actor, "status", mention_id, {"status": status})
    return len(found)


def assign(db, ids: Iterable[int], username: str | None, actor: str) -> int:
    """Assign mentions to a user (None unassigns); return how many changed."""
    found = _existing_ids(db, ids)
    with db.atomic():
        for mention_id in found:
            db.execute("UPDATE mentions SET assignee = ?, updated_at = ? WHERE id = ?", [username, utcnow(), mention_id])
            audit(db, actor, "assign", mention_id, {"assignee": username})
    return len(found)


def add_tag(db, ids: Iterable[int], tag: str, actor: str, at: str | None = None) -> int:
    """Tag mentions at `at` (default now; already-tagged ones are left alone); return how many were tagged."""
    at = at or utcnow()
    found = _existing_ids(db, ids)
    with db.atomic():
        for mention_id in found:
            db.execute(
                "INSERT OR IGNORE INTO tags (mention_id, tag, created_by, created_at) VALUES (?, ?, ?, ?)",
                [mention_id, tag, actor, at],
            )
            audit(db, actor, "tag.add", mention_id, {"tag": tag}, at=at)
    return len(found)


def remove_tag(db, mention_id: int, tag: str, actor: str) -> None:
    """Remove one tag from a mention."""
    with db.atomic():
        db.execute("DELETE FROM tags WHERE mention_id = ? AND tag = ?", [mention_id, tag])
        audit(db, actor, "tag.remove", mention_id, {"tag": tag})


def add_note(db, mention_id: int, author: str, body: str, at: str | None = None) -> None:
    """Add an internal note to a mention at `at` (default now)."""
    at = at or utcnow()
    with db.atomic():
        db.execute(
            "INSERT INTO notes (mention_id, author, body, created_at) VALUES (?, ?, ?, ?)",
            [mention_id, author, body, at],
        )
        audit(db, author, "note", mention_id, at=at)


def add_correction(db, mention_id: int, field: str, value: str, author: str) -> None:
    """Store a staff correction (field 'sentiment' or 'urgent') for training."""
    with db.atomic():
        db.execute(
            "INSERT INTO corrections (mention_id, field, value, author, created_at) VALUES (?, ?, ?, ?, ?)",
            [mention_id, field, value, author, utcnow()],
        )
        audit(db, author, "correct", mention_id, {field: value})


def claim_mention(db, mention_id: int, username: str, minutes: float) -> dict:
    """Claim a mention unless someone else holds a live claim; return the claim that stands."""
    now = utcnow()
    with db.atomic():
        db.execute(
            "INSERT INTO claims (mention_id, username, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (mention_id) DO UPDATE SET username = excluded.username, "
            "expires_at = excluded.expires_at WHERE claims.username = excluded.username "
            "OR claims.expires_at <= ?",
            [mention_id, username, _minutes_from_now(minutes), now],
        )
    return active_claim(db, mention_id)


def active_claim(db, mention_id: int) -> dict | None:
    """The live claim on a mention with the claimer's display name, or None."""
    rows = list(
        db.query(
            "SELECT c.*, coalesce(u.display_name, c.username) AS display_name FROM claims c "
            "LEFT JOIN users u ON u.username = c.username WHERE c.mention_id = ? AND c.expires_at > ?",
            [mention_id, utcnow()],
        )
    )
    return rows[0] if rows else None


def release_claim(db, mention_id: int, username: str) -> None:
    """Drop this user's claim on a mention."""
    with db.atomic():
        db.execute("DELETE FROM claims WHERE mention_id = ? AND username = ?", [mention_id, username])


def start_reply(db, mention_id: int, key: str, author: str, body: str, override: bool = False) -> tuple[dict, bool]:
    """Record a reply as pending; return (reply, created).

    A reused idempotency key returns the existing reply with created False.
    Without `override`, a mention that already has a public or pending reply
    raises ReplyConflict; the check and the insert are one statement, so two
    agents cannot both pass it.
    """
    existing = get_reply_by_key(db, key)
    if existing:
        return existing, False
    try:
        with db.atomic():
            cur = db.execute(
                "INSERT INTO replies (mention_id, idempotency_key, author, body, status, override, created_at) "
                "SELECT ?, ?, ?, ?, 'pending', ?, ? WHERE ? OR NOT EXISTS (SELECT 1 FROM replies "
                f"WHERE mention_id = ? AND {_TAKEN_SQL})",
                [mention_id, key, author, body, int(override), utcnow(), int(override), mention_id],
            )
            if cur.rowcount:
                audit(db, author, "reply.start", mention_id, {"override": bool(override)})
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):
            raise StoreError(f"cannot record reply: {_integrity_reason(exc)}") from exc
        return get_reply_by_key(db, key), False
    if not cur.rowcount:
        same = get_reply_by_key(db, key)  # a concurrent submit of this very form got there first
        if same:
            return same, False
        raise ReplyConflict(public_reply(db, mention_id))
    return get_reply(db, cur.lastrowid), True


def finish_reply(db, reply_id: int, status: str, actor: str, external_id: str | None = None,
                 url: str | None = None, error: str | None = None) -> None:  # fmt: skip
    """Mark a reply sent, failed, manual or demo; a public reply answers the mention."""
    now = utcnow()
    public = status in PUBLIC_REPLY_STATUSES
    reply = get_reply(db, reply_id)
    with db.atomic():
        changed = db.execute(
            "UPDATE replies SET status = ?, external_id = ?, url = ?, error = ?, sent_at = ? "
            "WHERE id = ? AND status = 'pending'",
            [status, external_id, url, error, now if public else None, reply_id],
        ).rowcount
        if not changed:
            raise StoreError(f"reply {reply_id} is no longer pending ({reply and reply['status']})")
        if public:
            db.execute(
                "UPDATE mentions SET first_response_at = coalesce(first_response_at, ?), updated_at = ?, "
                "status = CASE WHEN status IN ('new', 'open') THEN 'waiting' ELSE status END WHERE id = ?",
                [now, now, reply["mention_id"]],
            )
            db.execute("DELETE FROM claims WHERE mention_id = ?", [reply["mention_id"]])
        audit(db, actor, f"reply.{status}", reply["mention_id"], {"reply": reply_id, "error": error})


def get_reply(db, reply_id: int) -> dict | None:
    """One reply row, or None."""
    rows = list(db.query("SELECT * FROM replies WHERE id = ?", [reply_id]))
    return rows[0] if rows else None


def get_reply_by_key(db, key: str) -> dict | None:
    """The reply recorded under an idempotency key, or None."""
    rows = list(db.query("SELECT * FROM replies WHERE idempotency_key = ?", [key]))
    return rows[0] if rows else None


def public_reply(db, mention_id: int) -> dict | None:
    """The latest public or in-flight reply on a mention, with the author's display name."""
    rows = list(
        db.query(
            "SELECT r.*, coalesce(u.display_name, r.author) AS display_name FROM replies r "
            "LEFT JOIN users u ON u.username = r.author WHERE r.mention_id = ? "
            f"AND r.{_TAKEN_SQL} ORDER BY r.id DESC LIMIT 1",
            [mention_id],
        )
    )
    return rows[0] if rows else None


def saved_replies(db) -> list[dict]:
    """Saved reply templates, by name."""
    return list(db.query("SELECT * FROM saved_replies ORDER BY name"))


def add_saved_reply(db, name: str, body: str, actor: str) -> None:
    """Create or replace a saved reply template."""
    with db.atomic():
        db.execute(
            "INSERT INTO saved_replies (name, body) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET body = excluded.body",
            [name, body],
        )
        audit(db, actor, "saved_reply.save", detail={"name": name})


def delete_saved_reply(db, saved_id: int, actor: str) -> None:
    """Delete a saved reply template."""
    with db.atomic():
        db.execute("DELETE FROM saved_replies WHERE id = ?", [saved_id])
        audit(db, actor, "saved_reply.delete", detail={"id": saved_id})


def failed_logins(db, username: str, address: str, minutes: float) -> int:
    """Failed logins for this name from this address in the last `minutes`."""
    sql = "SELECT count(*) FROM login_attempts WHERE username = ? AND address = ? AND at > ?"
    return db.execute(sql, [username, address, _minutes_from_now(-minutes)]).fetchone()[0]


def failed_logins_from(db, address: str, minutes: float) -> int:
    """Failed logins from this address, for any name, in the last `minutes`."""
    sql = "SELECT count(*) FROM login_attempts WHERE address = ? AND at > ?"
    return db.execute(sql, [address, _minutes_from_now(-minutes)]).fetchone()[0]


def record_failed_login(db, username: str, address: str, keep_minutes: float = 1440) -> None:
    """Remember a failed login, forgetting attempts older than `keep_minutes`."""
    with db.atomic():
        db.execute("INSERT INTO login_attempts (username, address, at) VALUES (?, ?, ?)", [username, address, utcnow()])
        db.execute("DELETE FROM login_attempts WHERE at < ?", [_minutes_from_now(-keep_minutes)])


def clear_failed_logins(db, username: str, address: str) -> None:
    """Forget failed logins after a successful one."""
    with db.atomic():
        db.execute("DELETE FROM login_attempts WHERE username = ? AND address = ?", [username, address])


def thank_you_mentions(db, brands: Iterable[str], limit: int = 50) -> list[dict]:
    """Unanswered positive mentions, for our brands, from authors we answered before."""
    brands = list(brands) or [""]
    sql = (
        "WITH answered AS (SELECT p.platform, p.author_id, min(p.created_at) AS first_at "
        "FROM replies r JOIN mentions p ON p.id = r.mention_id "
        f"WHERE r.{_PUBLIC_SQL} AND p.author_id IS NOT NULL "
        "GROUP BY p.platform, p.author_id) "
        f"SELECT {LIST_COLUMNS} FROM answered a JOIN mentions m "
        "ON m.platform = a.platform AND m.author_id = a.author_id AND m.created_at > a.first_at "
        f"WHERE m.sentiment = 'positive' AND m.first_response_at IS NULL AND m.status != 'ignored' "
        f"AND m.brand IN ({_marks(brands)}) ORDER BY m.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [*brands, limit]))


def collector_runs(db, source: str, limit: int = 10) -> list[dict]:
    """A source's most recent collector runs, newest first."""
    sql = "SELECT * FROM collector_runs WHERE source = ? ORDER BY started_at DESC, id DESC LIMIT ?"
    return list(db.query(sql, [source, limit]))


# Demo history (demo.py): staff work written at historical times. Tags, notes and
# audit entries use add_tag, add_note and audit with `at`.


def set_demo_status(db, mention_id: int, status: str, assignee: str | None, actor: str, at: str) -> None:
    """Give a still-new mention its status and assignee at a past time, with audit entries."""
    with db.atomic():
        db.execute(
            "UPDATE mentions SET status = ?, assignee = ?, updated_at = ? WHERE id = ? AND status = 'new'",
            [status, assignee, at, mention_id],
        )
        if assignee:
            audit(db, actor, "assign", mention_id, {"assignee": assignee}, at=at)
        audit(db, actor, "status", mention_id, {"status": status}, at=at)


def add_demo_reply(db, mention_id: int, key: str, author: str, body: str, external_id: str, url: str,
                   created_at: str, sent_at: str) -> int | None:  # fmt: skip
    """Record a demo reply sent at `sent_at` (once per `key`) answering the mention; return its id or None."""
    with db.atomic():
        cur = db.execute(
            "INSERT OR IGNORE INTO replies (mention_id, idempotency_key, author, body, status, external_id, "
            "url, created_at, sent_at) VALUES (?, ?, ?, ?, 'demo', ?, ?, ?, ?)",
            [mention_id, key, author, body, external_id, url, created_at, sent_at],
        )
        if not cur.rowcount:
            return None
        db.execute(
            "UPDATE mentions SET first_response_at = coalesce(first_response_at, ?) WHERE id = ?",
            [sent_at, mention_id],
        )
        audit(db, author, "reply.demo", mention_id, {"reply": cur.lastrowid, "error": None}, at=sent_at)
    return cur.lastrowid


# --- Collection -------------------------------------------------------------------


def get_cursor(db, source: str, brand: str, query: str) -> str | None:
    """A collector's saved cursor for one (source, brand, query), or None."""
    row = db.execute(
        "SELECT value FROM cursors WHERE source = ? AND brand = ? AND query = ?", [source, brand, query]
    ).fetchone()
    return row[0] if row else None


def set_cursor(db, source: str, brand: str, query: str, value: str) -> None:
    """Save a cursor; call inside the `db.atomic()` that saves the rows it covers."""
    db.execute(
        "INSERT INTO cursors (source, brand, query, value, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (source, brand, query) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at",
        [source, brand, query, value, utcnow()],
    )


def start_collector_run(db, source: str) -> int:
    """Record that a collector run has started in this process (pid and host); return its id."""
    with db.atomic():
        cur = db.execute(
            "INSERT INTO collector_runs (source, started_at, status, pid, host) VALUES (?, ?, 'running', ?, ?)",
            [source, utcnow(), os.getpid(), socket.gethostname()],
        )
    return cur.lastrowid


def record_run_page(db, run_id: int, new: int, updated: int) -> None:
    """Count one stored page in its run; call inside the `db.atomic()` that stores the page."""
    db.execute(
        "UPDATE collector_runs SET new = new + ?, updated = updated + ?, pages = pages + 1 WHERE id = ?",
        [new, updated, run_id],
    )


COLLECTOR_RUN_FIELDS = ("status", "new", "updated", "pages", "rate_limit_remaining", "rate_limit_reset", "error")


def finish_collector_run(db, run_id: int, **fields) -> None:
    """Close a collector run with its status, counts and rate-limit state."""
    unknown = set(fields) - set(COLLECTOR_RUN_FIELDS)
    if unknown:
        raise StoreError(f"unknown collector_runs fields {sorted(unknown)}")
    sets = ", ".join(f"{name} = ?" for name in fields)
    with db.atomic():
        db.execute(
            f"UPDATE collector_runs SET {sets}, finished_at = ? WHERE id = ?",
            [*fields.values(), utcnow(), run_id],
        )


def record_skipped_run(db, source: str, reason: str, rate_limit_reset: str | None = None) -> None:
    """Record a collector run that did not start (no credentials, or waiting for a reset)."""
    now = utcnow()
    with db.atomic():
        db.execute(
            "INSERT INTO collector_runs (source, started_at, finished_at, status, rate_limit_reset, error) "
            "VALUES (?, ?, ?, 'skipped', ?, ?)",
            [source, now, now, rate_limit_reset, reason],
        )


def last_attempted_run(db, source: str) -> dict | None:
    """The source's most recent run that was not skipped, or None."""
    rows = list(
        db.query(
            "SELECT * FROM collector_runs WHERE source = ? AND status != 'skipped' ORDER BY id DESC LIMIT 1",
            [source],
        )
    )
    return rows[0] if rows else None


def close_interrupted_runs(db, source: str, holding_lock: bool = True) -> int:
    """Mark a source's runs whose process is gone as interrupted errors (their counts stay); return how many.

    Under the collect lock every 'running' run of the source is dead, since a live
    one would hold the lock. Without it, only runs whose process on this host has ended.
    """
    rows = db.execute("SELECT id, pid, host FROM collector_runs WHERE source = ? AND status = 'running'", [source])
    dead = [run_id for run_id, pid, host in rows.fetchall() if holding_lock or _process_ended(pid, host)]
    if not dead:
        return 0
    with db.atomic():
        cur = db.execute(
            "UPDATE collector_runs SET status = 'error', finished_at = ?, error = 'interrupted before it finished' "
            f"WHERE status = 'running' AND id IN ({_marks(dead)})",
            [utcnow(), *dead],
        )
    return cur.rowcount


def _process_ended(pid: int | None, host: str | None) -> bool:
    """Whether the process that recorded a run is known to be gone: it ran on this host and no longer exists."""
    if pid is None or host != socket.gethostname():
        return False  # a run from before migration 0017, or from another machine: no way to tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


# --- Classifier -------------------------------------------------------------------

_SCORING_COLUMNS = (
    "id, platform, brand, text, language, created_at, author_reach, like_count, repost_count, "
    "reply_count, mentions_brand_handle, in_reply_to_brand, first_response_at"
)


def count_unscored(db: sqlite_utils.Database, rescore: bool = False) -> int:
    """How many mentions the classifier has yet to score (all of them with rescore)."""
    where = "" if rescore else " WHERE scored_at IS NULL"
    return db.execute(f"SELECT count(*) FROM mentions{where}").fetchone()[0]


def mentions_to_score(db: sqlite_utils.Database, after_id: int, limit: int, rescore: bool = False) -> list[dict]:
    """The next batch of unscored mentions (any mentions with rescore) with id > after_id."""
    where = "id > ?" if rescore else "id > ? AND scored_at IS NULL"
    sql = f"SELECT {_SCORING_COLUMNS} FROM mentions WHERE {where} ORDER BY id LIMIT ?"
    return list(db.query(sql, [after_id, limit]))


def save_scores(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Write sentiment, urgency and intents for scored mentions, in one transaction."""
    now = utcnow()
    params = [
        (r["sentiment"], json.dumps(r["sentiment_scores"]), r["sentiment_model"],
         int(bool(r["sentiment_low_confidence"])), r["urgency"], json.dumps(r["urgency_parts"]),
         json.dumps(r["intents"]), now, now, r["id"])
        for r in rows
    ]  # fmt: skip
    with db.atomic():
        db.conn.executemany(
            "UPDATE mentions SET sentiment = ?, sentiment_scores = ?, sentiment_model = ?, "
            "sentiment_low_confidence = ?, urgency = ?, urgency_parts = ?, intents = ?, "
            "scored_at = ?, updated_at = ? WHERE id = ?",
            params,
        )


def mentions_awaiting_refresh(db: sqlite_utils.Database, since: str) -> list[dict]:
    """Scored mentions whose waiting time still moves their urgency.

    Open ones created since `since` with no response yet, and answered ones that
    still carry waiting points.
    """
    sql = (
        f"SELECT {_SCORING_COLUMNS}, sentiment_scores, sentiment_low_confidence FROM mentions "
        "WHERE scored_at IS NOT NULL AND ("
        "  (first_response_at IS NULL AND status IN ('new', 'open') AND created_at >= ?)"
        "  OR (first_response_at IS NOT NULL AND json_extract(urgency_parts, '$.waiting') > 0))"
    )
    return list(db.query(sql, [since]))


def save_urgency(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Write recomputed urgency scores and parts."""
    params = [(r["urgency"], json.dumps(r["urgency_parts"]), r["id"]) for r in rows]
    with db.atomic():
        db.conn.executemany("UPDATE mentions SET urgency = ?, urgency_parts = ? WHERE id = ?", params)


def mention_id(db, platform: str, external_id: str) -> int | None:
    """The stored id of a mention by its platform key, or None."""
    row = db.execute(
        "SELECT id FROM mentions WHERE platform = ? AND external_id = ?", [platform, str(external_id)]
    ).fetchone()
    return row[0] if row else None


# --- Reputation -------------------------------------------------------------------
# Named queries for the dashboard, spike alerts and the report (reputation/). Time
# ranges are half-open, [start, end), in the stored UTC ISO-8601 text. Charts are
# built from range counts on covering indexes, one count per cell, so a dashboard
# over a million mentions reads index entries, never table rows.

SENTIMENTS = ("negative", "neutral", "positive")


def reputation_counts(db, buckets: list[tuple[str, str]], brands: list[str], platforms: list[str]) -> list[tuple]:
    """Scored mentions per (bucket start, brand, sentiment): one index range count per cell."""
    if not (buckets and brands and platforms):
        return []
    sql = (
        "SELECT json_extract(b.value, '$[0]'), br.value, se.value, (SELECT count(*) FROM mentions m "
        f"INDEXED BY mentions_reputation WHERE m.brand = br.value AND m.platform IN ({_marks(platforms)}) "
        "AND m.sentiment = se.value AND m.sentiment IS NOT NULL "
        "AND m.created_at >= json_extract(b.value, '$[0]') AND m.created_at < json_extract(b.value, '$[1]')) "
        "FROM json_each(?) b, json_each(?) br, json_each(?) se"
    )
    params = [*platforms, json.dumps(buckets), json.dumps(brands), json.dumps(SENTIMENTS)]
    return db.execute(sql, params).fetchall()


def reputation_unscored(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(created_at, brand) of unscored mentions in the range: few, while the classifier keeps up."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT created_at, brand FROM mentions INDEXED BY mentions_unscored WHERE scored_at IS NULL "
        f"AND created_at >= ? AND created_at < ? AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)})"
    )
    return db.execute(sql, [start, end, *brands, *platforms]).fetchall()


REPUTATION_SAMPLE_COLUMNS = "id, platform, brand, text, author_handle, created_at, url, sentiment, intents"


def reputation_latest(db, start: str, end: str, brands: list[str], platforms: list[str],
                      sentiments: tuple[str, ...], limit: int) -> list[dict]:  # fmt: skip
    """The newest `limit` mentions with these sentiments in the range, newest first."""
    newest: list[tuple[str, int]] = []
    sql = (
        "SELECT created_at, id FROM mentions INDEXED BY mentions_reputation WHERE brand = ? AND platform = ? "
        "AND sentiment = ? AND created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT ?"
    )
    for brand in brands:
        for platform in platforms:
            for sentiment in sentiments:
                newest += db.execute(sql, [brand, platform, sentiment, start, end, limit]).fetchall()
    ids = [mention for _, mention in sorted(newest, reverse=True)[:limit]]
    rows = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        sql = f"SELECT {REPUTATION_SAMPLE_COLUMNS} FROM mentions WHERE id IN ({_marks(part)})"
        rows += db.query(sql, part)
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)


def reputation_answered(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(id, minutes to first response, who sent the first public reply) of answered mentions in the range."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT m.id, (unixepoch(m.first_response_at) - unixepoch(m.created_at)) / 60.0, "
        f"(SELECT r.author FROM replies r INDEXED BY replies_first_public WHERE r.mention_id = m.id AND r.{_PUBLIC_SQL} "
        "ORDER BY r.sent_at LIMIT 1) FROM mentions m INDEXED BY mentions_answered "
        f"WHERE m.first_response_at IS NOT NULL AND m.brand IN ({_marks(brands)}) "
        f"AND m.platform IN ({_marks(platforms)}) AND m.created_at >= ? AND m.created_at < ?"
    )
    return db.execute(sql, [*brands, *platforms, start, end]).fetchall()


def reputation_assigned(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(assignee, assigned, answered) for mentions created in the range and assigned to someone."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT assignee, count(*), count(first_response_at) FROM mentions INDEXED BY mentions_assigned "
        f"WHERE assignee IS NOT NULL AND created_at >= ? AND created_at < ? AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)}) GROUP BY assignee"
    )
    return db.execute(sql, [start, end, *brands, *platforms]).fetchall()


def user_display_names(db) -> dict[str, str]:
    """Every staff username with the name colleagues see."""
    rows = db.execute("SELECT username, coalesce(display_name, username) FROM users").fetchall()
    return dict(rows)


def reputation_windows(db, brand: str, windows: list[tuple[str, str]], platforms: list[str]) -> list[dict]:
    """Mentions, scored mentions and negative mentions of one brand in each [start, end) window."""
    within = "created_at >= json_extract(w.value, '$[0]') AND created_at < json_extract(w.value, '$[1]')"
    scored = (
        f"FROM mentions INDEXED BY mentions_reputation WHERE brand = ? AND platform IN ({_marks(platforms)}) "
        f"AND sentiment IS NOT NULL AND {within}"
    )
    sql = (
        "SELECT json_extract(w.value, '$[0]') AS start, json_extract(w.value, '$[1]') AS end, "
        f"(SELECT count(*) FROM mentions INDEXED BY mentions_brand_created WHERE brand = ? AND {within}) AS mentions, "
        f"(SELECT count(*) {scored} AND sentiment IN ({_marks(SENTIMENTS)})) AS scored, "
        f"(SELECT count(*) {scored} AND sentiment = 'negative') AS negative "
        "FROM json_each(?) w"
    )
    params = [brand, brand, *platforms, *SENTIMENTS, brand, *platforms, json.dumps(windows)]
    return list(db.query(sql, params))


REPUTATION_EXPORT_COLUMNS = (
    "id", "created_at", "platform", "brand", "author_handle", "language", "sentiment", "urgency",
    "intents", "status", "assignee", "first_response_at", "url", "text",
)  # fmt: skip


def reputation_mentions(db, start: str, end: str, brands: list[str], platforms: list[str],
                        batch: int = 1000) -> Iterator[dict]:  # fmt: skip
    """Mentions in the range for these brands and platforms, oldest first, streamed in batches."""
    if not (brands and platforms):
        return
    sql = (
        f"SELECT {', '.join(REPUTATION_EXPORT_COLUMNS)} FROM mentions INDEXED BY mentions_created "
        "WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR id > ?) "
        f"AND brand IN ({_marks(brands)}) AND platform IN ({_marks(platforms)}) ORDER BY created_at, id LIMIT ?"
    )
    last_at, last_id = start, 0
    while True:
        rows = list(db.query(sql, [last_at, end, last_at, last_id, *brands, *platforms, batch]))
        yield from rows
        if len(rows) < batch:
            return
        last_at, last_id = rows[-1]["created_at"], rows[-1]["id"]


def add_alert(db, alert: dict, channels: Iterable[str], due_at: str | None = None) -> int:
    """Store an alert and one pending delivery per channel (due at `due_at`, default now); return its id."""
    now = utcnow()
    with db.atomic():
        cur = db.execute(
            "INSERT INTO alerts (brand, kinds, window_start, window_end, mentions, baseline, negative_share, "
            "baseline_negative_share, reason, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [alert["brand"], alert["kinds"], alert["window_start"], alert["window_end"], alert["mentions"],
             alert["baseline"], alert.get("negative_share"), alert.get("baseline_negative_share"),
             alert["reason"], json.dumps(alert.get("detail") or {}, ensure_ascii=False), now],
        )  # fmt: skip
        for channel in channels:
            db.execute(
                "INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at) VALUES (?, ?, ?)",
                [cur.lastrowid, channel, due_at or now],
            )
    return cur.lastrowid


def last_alert_end(db, brand: str) -> str | None:
    """The end of the latest alerted window for a brand, or None (for the cooldown)."""
    row = db.execute("SELECT max(window_end) FROM alerts WHERE brand = ?", [brand]).fetchone()
    return row[0]


def active_alerts(db, since: str, limit: int = 5) -> list[dict]:
    """Alerts raised since `since` that nobody has dismissed, newest first."""
    sql = "SELECT * FROM alerts WHERE created_at >= ? AND dismissed_at IS NULL ORDER BY id DESC LIMIT ?"
    return list(db.query(sql, [since, limit]))


def list_alerts(db, limit: int = 50) -> list[dict]:
    """The latest alerts with each delivery as 'channel: status', newest first."""
    sql = (
        "SELECT a.*, (SELECT group_concat(d.channel || ': ' || d.status, ', ') FROM alert_deliveries d "
        "WHERE d.alert_id = a.id) AS deliveries FROM alerts a ORDER BY a.id DESC LIMIT ?"
    )
    return list(db.query(sql, [limit]))


def get_alert(db, alert_id: int) -> dict | None:
    """One alert, or None."""
    rows = list(db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
    return rows[0] if rows else None


def dismiss_alert(db, alert_id: int, actor: str) -> bool:
    """Take an alert out of the banner; return whether it was still showing."""
    with db.atomic():
        cur = db.execute(
            "UPDATE alerts SET dismissed_at = ?, dismissed_by = ? WHERE id = ? AND dismissed_at IS NULL",
            [utcnow(), actor, alert_id],
        )
        if cur.rowcount:
            audit(db, actor, "alert.dismiss", detail={"alert": alert_id})
    return bool(cur.rowcount)


def due_deliveries(db, now: str, limit: int = 50) -> list[dict]:
    """Pending alert deliveries whose next attempt is due, oldest first."""
    sql = (
        "SELECT * FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?"
    )
    return list(db.query(sql, [now, limit]))


def record_delivery(db, delivery_id: int, error: str | None, retry_at: str | None) -> None:
    """Count one delivery attempt: sent (no error), pending until `retry_at`, or failed for good."""
    status = "sent" if error is None else "pending" if retry_at else "failed"
    now = utcnow()
    with db.atomic():
        db.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, status = ?, last_error = ?, "
            "next_attempt_at = coalesce(?, next_attempt_at), sent_at = ? WHERE id = ?",
            [status, error, retry_at, now if error is None else None, delivery_id],
        )


def alert_deliveries(db, alert_id: int) -> list[dict]:
    """An alert's deliveries (one per channel)."""
    return list(db.query("SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id", [alert_id]))
