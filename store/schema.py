"""Earshot's schema as named migrations, applied in order, each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from .common import _storable, begin_immediate, run_script, utcnow

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


# The default inbox's order; 0044 rebuilds them on PostgreSQL.
ACTIVE_URGENCY_INDEXES = """
        CREATE INDEX mentions_active_urgency ON mentions (urgency DESC, id DESC)
            WHERE status IN ('new', 'open', 'waiting');
        CREATE INDEX mentions_active_brand_urgency ON mentions (brand, urgency DESC, id DESC)
            WHERE status IN ('new', 'open', 'waiting');
"""


@migration("0004_console_indexes")
def _m0004_console_indexes(db: sqlite_utils.Database) -> None:
    """Partial indexes for the default (active) inbox, threads and claims."""
    run_script(
        db,
        ACTIVE_URGENCY_INDEXES
        + """
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


@migration("0020_model_versions")
def _m0020_model_versions(db: sqlite_utils.Database) -> None:
    """Sentiment model versions (the bundled one active from the start) and their promotions."""
    run_script(
        db,
        """
        CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY,
            version TEXT NOT NULL UNIQUE,
            folder TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'candidate', 'rejected', 'retired')),
            created_at TEXT NOT NULL,
            promoted_at TEXT,
            parent TEXT,
            figures TEXT,
            reason TEXT,
            corrections_until INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE model_promotions (
            id INTEGER PRIMARY KEY,
            version TEXT NOT NULL,
            previous TEXT,
            action TEXT NOT NULL CHECK (action IN ('promote', 'rollback')),
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        );
        """,
    )
    db.execute(
        "INSERT INTO model_versions (version, folder, status, created_at, reason) VALUES (?, ?, ?, ?, ?)",
        ["bundled", "", "active", utcnow(), "shipped with Earshot"],
    )


@migration("0030_customers")
def _m0030_customers(db: sqlite_utils.Database) -> None:
    """Customers: accounts on several networks that staff linked as one person (an account in at most one)."""
    run_script(
        db,
        """
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE TABLE customer_accounts (
            customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
            platform TEXT NOT NULL,
            author_id TEXT NOT NULL,
            linked_at TEXT NOT NULL,
            linked_by TEXT NOT NULL,
            PRIMARY KEY (platform, author_id)
        );
        CREATE INDEX customer_accounts_customer ON customer_accounts (customer_id);
        """,
    )


@migration("0040_outcomes")
def _m0040_outcomes(db: sqlite_utils.Database) -> None:
    """Follow-ups linked to the mention and our reply, outcomes with evidence, CSAT responses and fixes."""
    run_script(
        db,
        """
        CREATE INDEX mentions_in_reply_to ON mentions (platform, in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
        CREATE TABLE followups (
            followup_id INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            reply_id INTEGER NOT NULL REFERENCES replies(id),
            by_customer INTEGER NOT NULL DEFAULT 0,
            linked_at TEXT NOT NULL
        );
        CREATE INDEX followups_mention ON followups (mention_id);
        CREATE TABLE outcomes (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
            outcome TEXT NOT NULL CHECK (outcome IN ('satisfied', 'still_unhappy', 'escalated', 'churn_risk',
                                                     'neutral', 'no_reply_yet', 'silent')),
            evidence TEXT NOT NULL,
            followup_id INTEGER,
            reply_id INTEGER NOT NULL,
            brand TEXT NOT NULL,
            platform TEXT NOT NULL,
            agent TEXT,
            theme TEXT,
            sentiment_before TEXT,
            answered_at TEXT NOT NULL,
            recovered INTEGER NOT NULL DEFAULT 0,
            decided_at TEXT NOT NULL
        );
        CREATE INDEX outcomes_answered ON outcomes (answered_at, brand, platform, outcome);
        CREATE INDEX outcomes_outcome ON outcomes (outcome, answered_at);
        CREATE TABLE csat_responses (
            id INTEGER PRIMARY KEY,
            reply_id INTEGER NOT NULL UNIQUE REFERENCES replies(id),
            mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            comment TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX csat_created ON csat_responses (created_at);
        CREATE TABLE survey_hits (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX survey_hits_address ON survey_hits (address, at);
        CREATE TABLE fixes (
            id INTEGER PRIMARY KEY,
            brand TEXT NOT NULL,
            theme TEXT NOT NULL,
            note TEXT NOT NULL,
            fixed_on TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    )


# The complaint themes 0041 indexes (classifier/urgency.py's intents at the time, less "question").
THEME_INDEXES = ("safety", "fraud_phishing", "privacy_security", "legal_threat", "outage", "account_access",
                 "billing", "delivery", "cancellation")  # fmt: skip


@migration("0041_outcome_indexes")
def _m0041_outcome_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for the dashboard's Outcomes section at a million mentions.

    Retention's first complaints read from two indexes of negative mentions with an author alone
    (newest first, and a customer's earlier complaint about the same brand in one seek; other
    queries on negatives, which need not name an author, keep their own); one partial index per
    complaint theme counts a fix's before and after; the outcome counts read from their index
    alone. Each mentions index holds only scored rows (negative, or with that theme), so ingest
    pays nothing for them; scoring a negative or themed mention pays one entry each.
    """
    themes = "\n".join(
        f"CREATE INDEX mentions_theme_{t} ON mentions (brand, sentiment, created_at, intents) "
        f"WHERE intents LIKE '%\"{t}\"%';"
        for t in THEME_INDEXES
    )
    run_script(
        db,
        f"""
        CREATE INDEX mentions_complaints ON mentions (sentiment, created_at, brand, platform, author_id,
                                                      first_response_at)
            WHERE sentiment = 'negative' AND author_id IS NOT NULL;
        CREATE INDEX mentions_complaints_by_author ON mentions (platform, author_id, brand, created_at, sentiment)
            WHERE sentiment = 'negative' AND author_id IS NOT NULL;
        CREATE INDEX outcomes_counts ON outcomes (answered_at, brand, platform, agent, theme, sentiment_before,
                                                  recovered, outcome, reply_id);
        {themes}
        """,
    )


@migration("0042_outcome_groups")
def _m0042_outcome_groups(db: sqlite_utils.Database) -> None:
    """The outcome counts read in their groups' order, so SQLite need not sort them.

    Sorting every answered mention of the range by seven keys was most of the Outcomes
    section's time at a million mentions; this index hands them over already grouped, one
    seek per brand and network, and replaces 0041's index ordered by answer time.
    """
    run_script(
        db,
        """
        DROP INDEX outcomes_counts;
        CREATE INDEX outcomes_groups ON outcomes (brand, platform, agent, theme, sentiment_before, recovered,
                                                  outcome, answered_at, reply_id);
        """,
    )


# Each customer's first complaint about a brand (0043): one row per (platform, author, brand),
# the earliest negative mention by (created_at, id). The same text runs on both backends.
COMPLAINT_STARTS_SQL = """
    CREATE TABLE complaint_starts (
        platform TEXT NOT NULL,
        author_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        mention_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (platform, author_id, brand)
    );
    CREATE INDEX complaint_starts_newest ON complaint_starts (created_at, mention_id, brand);
    -- 0041's newest-complaints index served only the search this table replaces.
    DROP INDEX mentions_complaints;
    INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
        SELECT platform, author_id, brand, id, created_at FROM (
            SELECT platform, author_id, brand, id, created_at, row_number() OVER (
                PARTITION BY platform, author_id, brand ORDER BY created_at, id) AS n
            FROM mentions WHERE sentiment = 'negative' AND author_id IS NOT NULL) AS firsts
        WHERE n = 1;
"""
# A candidate start replaces the stored one only when it is earlier.
EARLIER_START = (
    "ON CONFLICT (platform, author_id, brand) DO UPDATE SET mention_id = excluded.mention_id, "
    "created_at = excluded.created_at WHERE excluded.created_at < complaint_starts.created_at "
    "OR (excluded.created_at = complaint_starts.created_at AND excluded.mention_id < complaint_starts.mention_id)"
)
# When the old row was its customer's start, the next earliest complaint takes over.
_HAND_OVER = f"""
        DELETE FROM complaint_starts WHERE platform = old.platform AND author_id = old.author_id
            AND brand = old.brand AND mention_id = old.id;
        INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
            SELECT platform, author_id, brand, id, created_at FROM mentions INDEXED BY mentions_complaints_by_author
            WHERE platform = old.platform AND author_id = old.author_id AND brand = old.brand
              AND sentiment = 'negative' AND author_id IS NOT NULL
            ORDER BY created_at, id LIMIT 1 {EARLIER_START};"""
# SQLite keeps complaint_starts with row triggers (store/postgres.py has PostgreSQL's).
_SQLITE_START_TRIGGERS = f"""
    CREATE TRIGGER complaint_starts_insert AFTER INSERT ON mentions
    WHEN new.sentiment = 'negative' AND new.author_id IS NOT NULL BEGIN
        INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
            SELECT new.platform, new.author_id, new.brand, new.id, new.created_at WHERE 1 {EARLIER_START};
    END;
    CREATE TRIGGER complaint_starts_update AFTER UPDATE OF sentiment, platform, author_id, brand, created_at
    ON mentions WHEN (old.sentiment IS 'negative' AND old.author_id IS NOT NULL
                      OR new.sentiment IS 'negative' AND new.author_id IS NOT NULL)
        AND (old.sentiment IS NOT new.sentiment OR old.platform IS NOT new.platform
             OR old.author_id IS NOT new.author_id OR old.brand IS NOT new.brand
             OR old.created_at IS NOT new.created_at) BEGIN
        {_HAND_OVER}
        INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
            SELECT new.platform, new.author_id, new.brand, new.id, new.created_at
            WHERE new.sentiment IS 'negative' AND new.author_id IS NOT NULL {EARLIER_START};
    END;
    CREATE TRIGGER complaint_starts_delete AFTER DELETE ON mentions
    WHEN old.sentiment = 'negative' AND old.author_id IS NOT NULL BEGIN
        {_HAND_OVER}
    END;
"""


@migration("0043_complaint_starts")
def _m0043_complaint_starts(db: sqlite_utils.Database) -> None:
    """Each customer's first complaint about a brand, kept up to date as mentions are scored.

    Retention follows customers from their first complaint. Finding those by asking, for each
    complaint in the range, whether the customer complained earlier walked every complaint of
    the range (a third of a million in two weeks at a million mentions); the table holds the
    answer, written by triggers whenever a mention turns negative, stops being negative, moves
    or is deleted, so every write path keeps it without knowing about it.
    """
    run_script(db, COMPLAINT_STARTS_SQL + _SQLITE_START_TRIGGERS)


@migration("0044_descending_ids")
def _m0044_descending_ids(db: sqlite_utils.Database) -> None:
    """Nothing on SQLite. PostgreSQL rebuilds the inbox's urgency indexes (store/postgres.py).

    PostgreSQL's translation of ``id DESC`` used to add NULLS LAST, which stopped an ascending
    index from serving a newest-first read backwards; ids never hold NULL, so it is gone, and
    indexes made with it no longer match the queries.
    """


@migration("0045_search_off_the_write_path")
def _m0045_search_off_the_write_path(db: sqlite_utils.Database) -> None:
    """Nothing on SQLite, whose FTS5 index stays in the writer's transaction (see store/postgres.py).

    On PostgreSQL the trigram index moves to its own table, which scoring workers fill from
    a queue of new and edited mentions, so that ingest no longer maintains it.
    """


@migration("0046_filter_statistics")
def _m0046_filter_statistics(db: sqlite_utils.Database) -> None:
    """Nothing on SQLite, whose reads name their index. PostgreSQL gathers joint statistics (store/postgres.py)."""


# Each answered mention keeps its minutes to first response and who sent that reply (0047), so
# the dashboard's response figures read them from one index instead of parsing two timestamps
# and looking up the first public reply for every answered mention of the range.
FIRST_RESPONDER_SQL = (
    "(SELECT r.author FROM replies r INDEXED BY replies_first_public WHERE r.mention_id = {mention} "
    "AND r.status IN ('sent', 'manual', 'demo') ORDER BY r.sent_at LIMIT 1)"
)
RESPONSE_MINUTES_SQL = "(unixepoch({row}.first_response_at) - unixepoch({row}.created_at)) / 60.0"
RESPONSE_TIMES_SQL = f"""
    ALTER TABLE mentions ADD COLUMN response_minutes REAL;
    ALTER TABLE mentions ADD COLUMN first_responder TEXT;
    UPDATE mentions SET response_minutes = {RESPONSE_MINUTES_SQL.format(row="mentions")},
        first_responder = {FIRST_RESPONDER_SQL.format(mention="mentions.id")}
        WHERE first_response_at IS NOT NULL;
    DROP INDEX mentions_answered;
    CREATE INDEX mentions_answered ON mentions (brand, platform, created_at, first_response_at, response_minutes,
                                                first_responder)
        WHERE first_response_at IS NOT NULL;
"""
# SQLite sets both whenever first_response_at is written (store/postgres.py has PostgreSQL's trigger).
# A writer that names the responder itself, with no public reply stored, keeps its name.
_SQLITE_RESPONSE_TRIGGER = f"""
    CREATE TRIGGER mentions_response_time AFTER UPDATE OF first_response_at ON mentions
    WHEN new.first_response_at IS NOT NULL BEGIN
        UPDATE mentions SET response_minutes = {RESPONSE_MINUTES_SQL.format(row="new")},
            first_responder = coalesce({FIRST_RESPONDER_SQL.format(mention="new.id")}, new.first_responder)
            WHERE id = new.id;
    END;
"""


@migration("0047_stored_response_times")
def _m0047_stored_response_times(db: sqlite_utils.Database) -> None:
    """Each answered mention's minutes to first response and first responder, kept as it is answered.

    The dashboard's response times turned two stored timestamps into numbers and looked
    up the first public reply for every answered mention in the range (most of the
    Responses section's time at a million mentions). A trigger now stores both whenever
    first_response_at is written, and the index hands them over with the range.
    """
    run_script(db, RESPONSE_TIMES_SQL + _SQLITE_RESPONSE_TRIGGER)


@migration("0048_author_posts")
def _m0048_author_posts(db: sqlite_utils.Database) -> None:
    """The author index carries what retention reads of each later post, so it never reads the table.

    Retention reads every later post of the newest 2,000 complaining customers (ten thousand
    at a million mentions); reading each from the table was most of that section's time.
    """
    run_script(
        db,
        """
        DROP INDEX mentions_author;
        CREATE INDEX mentions_author ON mentions (platform, author_id, created_at, brand, sentiment, intents, id);
        """,
    )


# New steps go here, at the end: the order above is the order they run in.


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
