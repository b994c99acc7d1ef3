"""The PostgreSQL backend: a Database with the same face as the SQLite one, over a psycopg connection pool.

The store writes its SQL once, in the SQLite dialect both backends mostly share
(`?` placeholders, ON CONFLICT upserts, COALESCE). This module turns the few
mechanical differences into PostgreSQL as each statement is first seen:
placeholders, INSERT OR IGNORE, planner hints, scalar min/max, unixepoch,
group_concat, `[name]` quoting, `RETURNING id` for the inserted id, and the
schema's DDL (identity keys, 64-bit integers, a pg_trgm index in place of the
FTS5 table, whose index-maintenance statements become no-ops). Queries that
must differ in substance (search, JSON lists) are written twice in their own
modules, keyed on `db.dialect`. An executemany INSERT of many rows goes through
COPY and one INSERT ... SELECT, which is what makes bulk ingest fast.

The password never appears in a URL or a message: it comes from
EARSHOT_DATABASE_PASSWORD (or libpq's own PGPASSWORD).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from .common import StoreError, utcnow
from .schema import (
    COMPLAINT_STARTS_SQL,
    EARLIER_START,
    FIRST_RESPONDER_SQL,
    RESPONSE_MINUTES_SQL,
    RESPONSE_TIMES_SQL,
)

PASSWORD_ENV = "EARSHOT_DATABASE_PASSWORD"
URL_PREFIXES = ("postgresql://", "postgres://")
POOL_MAX = int(os.environ.get("EARSHOT_DATABASE_POOL", "10"))
MIGRATION_LOCK = 0x45415253  # advisory lock key held while migrations run ("EARS")

_pools: dict[tuple[str, int], object] = {}
_pools_lock = threading.Lock()


def is_postgres_url(target) -> bool:
    """Whether a storage target names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(URL_PREFIXES)


def safe_url(url: str) -> str:
    """The URL as it may be shown: any password in it replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


# --- SQL translation -------------------------------------------------------------

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%|\[\w+\]|[^'\"?%\[-]+|.", re.S)
_IDENTITY_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+(\w+)", re.I)


@lru_cache(maxsize=4096)
def translate(sql: str, with_params: bool = True) -> str:
    """One SQLite-dialect statement as PostgreSQL runs it (cached: the store reuses its statements)."""
    out = []
    for token in _TOKENS.findall(sql):
        if token == "?":
            out.append("%s")
        elif token == "%":
            out.append("%%" if with_params else "%")
        elif token.startswith("[") and token.endswith("]"):
            out.append(f'"{token[1:-1]}"')
        elif token[0] in "'\"" or token.startswith("--"):
            out.append(token.replace("%", "%%") if with_params else token)
        else:
            out.append(_translate_words(token))
    text = "".join(out)
    if re.match(r"\s*INSERT\s+OR\s+IGNORE\s+INTO", text, re.I):
        text = re.sub(r"INSERT\s+OR\s+IGNORE\s+INTO", "INSERT INTO", text, count=1, flags=re.I)
        text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text


# SQLite sorts NULL below every value; PostgreSQL above, so a descending key gets NULLS LAST
# (indexes are translated alike). Ids and timestamps are never NULL: they keep PostgreSQL's
# default, which lets an ascending index (the primary key, (brand, ..., created_at)) serve
# them backwards, where NULLS LAST would sort the whole range first. (mention_id may be NULL
# only in audit, which no query sorts by it.)
_DESCENDING = re.compile(r"(?:([\w.]+)\s+)?\bDESC\b(?!\s+NULLS)", re.I)
_NEVER_NULL = {"id", "rowid", "created_at", "mention_id"}


def _never_null(column: str | None) -> bool:
    """Whether a sort key names a column that no table lets be NULL."""
    return bool(column) and column.rsplit(".", 1)[-1].lower() in _NEVER_NULL


_WORDS = [
    (re.compile(r"\bINDEXED\s+BY\s+\w+", re.I), ""),
    (re.compile(r"\bgroup_concat\(", re.I), "string_agg("),
    (re.compile(r"\bmin\(([\w.]+),\s*([\w.]+)\)", re.I), r"LEAST(\1, \2)"),
    (re.compile(r"\bmax\(([\w.]+),\s*([\w.]+)\)", re.I), r"GREATEST(\1, \2)"),
    # date_part, not extract: a double precision, which is quicker to compute and to load than extract's numeric.
    (re.compile(r"\bunixepoch\(([\w.]+)\)", re.I), r"date_part('epoch', (\1)::timestamptz)"),
    (re.compile(r"\bLIKE\b"), "ILIKE"),  # SQLite's LIKE ignores case
    (_DESCENDING, lambda m: m[0] if _never_null(m[1]) else m[0] + " NULLS LAST"),
    (re.compile(r"\bBEGIN\s+IMMEDIATE\b", re.I), "BEGIN"),
    (re.compile(r"\bAS\s+INTEGER\b", re.I), "AS BIGINT"),  # SQLite's integers are 64-bit
]


def _translate_words(text: str) -> str:
    """Apply the word-level rewrites to SQL text outside quotes."""
    for pattern, replacement in _WORDS:
        text = pattern.sub(replacement, text)
    return text


# --- DDL translation (migrations) ------------------------------------------------

_DDL_TYPES = [
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b", re.I), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
]
# What stands in for the FTS5 table: a trigram index, which serves ILIKE '%term%' in any script
# (migration 0045 moves it to search_text, off the write path; see below).
SEARCH_INDEX_SQL = "CREATE INDEX IF NOT EXISTS mentions_text_trgm ON mentions USING gin (text gin_trgm_ops)"
# The FTS5 table's upkeep (its triggers and index writes) has no counterpart: the trigram index keeps itself.
_DROPPED = re.compile(
    r"^\s*((CREATE|DROP)\s+TRIGGER\s+(IF\s+EXISTS\s+)?mentions_fts_\w+|INSERT\s+INTO\s+mentions_fts\b)", re.I
)
_VIRTUAL = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\s+mentions_fts\b", re.I)


def translate_ddl(statement: str) -> str | None:
    """A schema statement as PostgreSQL runs it; None where PostgreSQL needs nothing (FTS triggers)."""
    body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
    if _DROPPED.match(body):
        return None
    if _VIRTUAL.match(body):
        return SEARCH_INDEX_SQL
    if re.match(r"\s*(CREATE|ALTER)\s+TABLE", body, re.I):
        for pattern, replacement in _DDL_TYPES:
            body = pattern.sub(replacement, body)
    return _translate_words(body)


def _is_ddl(sql: str) -> bool:
    """Whether a statement changes the schema (and so gets the DDL translation)."""
    return bool(re.match(r"\s*(--[^\n]*\n\s*)*(CREATE|DROP|ALTER)\b", sql, re.I)) or bool(_DROPPED.match(sql))


# --- errors ------------------------------------------------------------------------


def _as_sqlite_error(exc: Exception) -> Exception:
    """A psycopg error as the DB-API error the store already handles (same class names, same message words)."""
    import psycopg

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return sqlite3.IntegrityError(f"UNIQUE constraint failed: {text}")
    if isinstance(exc, psycopg.errors.CheckViolation):
        return sqlite3.IntegrityError(f"CHECK constraint failed: {text}")
    if isinstance(exc, psycopg.errors.NotNullViolation):
        return sqlite3.IntegrityError(f"NOT NULL constraint failed: {text}")
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return sqlite3.IntegrityError(f"FOREIGN KEY constraint failed: {text}")
    if isinstance(exc, psycopg.IntegrityError):
        return sqlite3.IntegrityError(text)
    if isinstance(exc, psycopg.errors.SyntaxError | psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
        return sqlite3.OperationalError(text)
    return exc


_ONE_ROW_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*\((?:\s*%s\s*,)*\s*%s\s*\)(.*)$",
                             re.I | re.S)
COPY_FROM_ROWS = 50  # from this many rows an executemany INSERT goes through COPY


def _copy_insert(cur, match: re.Match, seq: list[list]) -> int:
    """Run a one-row INSERT for many rows as COPY into a scratch table plus one INSERT ... SELECT; return rows written.

    Rows are applied in order. Where two rows share the ON CONFLICT key, the later
    one goes in a later pass, so it updates the row the earlier one wrote, as one
    statement per row would.
    """
    table, rest = match.group(1), match.group(3)
    columns = [c.strip() for c in match.group(2).split(",")]
    listed = ", ".join(columns)
    scratch = f"_rows_{table}_{zlib.crc32(listed.encode()):x}"
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {scratch} AS SELECT {listed} FROM {table} WITH NO DATA")
    key = re.search(r"ON\s+CONFLICT\s*\(([^)]*)\)", rest, re.I)
    at = [columns.index(c.strip()) for c in key.group(1).split(",")] if key else []
    written = 0
    for wave in _waves(seq, at):
        cur.execute(f"TRUNCATE {scratch}")
        with cur.copy(f"COPY {scratch} ({listed}) FROM STDIN") as copy:
            for row in wave:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {scratch} ORDER BY ctid{rest}")
        written += cur.rowcount
    return written


def _waves(seq: list[list], key_at: list[int]) -> list[list[list]]:
    """Rows split into passes: each key's first row in the first pass, its second in the second, and so on."""
    if not key_at:
        return [seq]
    waves: list[list[list]] = []
    seen: dict[tuple, int] = {}
    for row in seq:
        key = tuple(row[i] for i in key_at)
        n = seen[key] = seen.get(key, -1) + 1
        if n == len(waves):
            waves.append([])
        waves[n].append(row)
    return waves


class Cursor:
    """The result of one statement: rows as tuples, plus rowcount and the inserted id."""

    def __init__(self, rows: list | None, rowcount: int, lastrowid: int | None = None, columns=None):
        self._rows = iter(rows or [])
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.description = columns

    def fetchone(self):
        """The next row, or None."""
        return next(self._rows, None)

    def fetchall(self) -> list:
        """Every remaining row."""
        return list(self._rows)

    def __iter__(self):
        return self._rows


class Connection:
    """The `db.conn` face the store uses: execute, executemany, in_transaction, commit."""

    def __init__(self, raw, identity_tables: frozenset[str]):
        self.raw = raw
        self.identity_tables = identity_tables

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params=None) -> Cursor:
        """Run one statement (translated) and collect its rows."""
        sql, returning = self._prepare(sql, params)
        if sql is None:
            return Cursor([], 0)
        try:
            cur = self.raw.execute(sql, list(params) if params else None)
            rows = cur.fetchall() if cur.description else []
        except Exception as exc:
            raise _as_sqlite_error(exc) from exc
        if returning:
            return Cursor([], cur.rowcount, rows[0][0] if rows else None)
        return Cursor(rows, cur.rowcount, columns=cur.description)

    def executemany(self, sql: str, seq) -> Cursor:
        """Run one statement for each parameter row, pipelined."""
        seq = [list(p) for p in seq]
        if not seq:
            return Cursor([], 0)
        sql = translate(sql) if not _is_ddl(sql) else translate_ddl(sql)
        if sql is None:
            return Cursor([], 0)
        try:
            with self.raw.cursor() as cur:
                match = _ONE_ROW_INSERT.match(sql)
                if match and len(seq) >= COPY_FROM_ROWS:
                    return Cursor([], _copy_insert(cur, match, seq))
                cur.executemany(sql, seq)
                return Cursor([], cur.rowcount)
        except Exception as exc:
            raise _as_sqlite_error(exc) from exc

    def _prepare(self, sql: str, params) -> tuple[str | None, bool]:
        """The PostgreSQL text of a statement, and whether it had `RETURNING id` added for lastrowid."""
        if _is_ddl(sql):
            ddl = translate_ddl(sql)
            return (translate(ddl, with_params=bool(params)) if ddl else None), False
        text = translate(sql, with_params=bool(params))
        match = _IDENTITY_INSERT.match(sql)
        if match and match.group(1).lower() in self.identity_tables and "RETURNING" not in text.upper():
            return text.rstrip().rstrip(";") + " RETURNING id", True
        return text, False

    def commit(self) -> None:
        """Commit an open transaction."""
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back an open transaction."""
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def set_progress_handler(self, handler, n: int) -> None:
        """SQLite's statement interrupt; on PostgreSQL counts stop at their LIMIT instead."""

    def close(self) -> None:
        """Nothing here: the Database returns the connection to its pool."""


class PostgresDatabase:
    """The store's database on PostgreSQL: execute(), query(), atomic() and conn, like the SQLite one."""

    dialect = "postgresql"

    def __init__(self, url: str, pool, raw):
        self.url = url
        self._pool = pool
        self._raw = raw
        self.conn = Connection(raw, _identity_tables(raw))
        self._depth = 0

    def execute(self, sql: str, params=None) -> Cursor:
        """Run one statement with `?` parameters."""
        return self.conn.execute(sql, params)

    def executescript(self, sql: str) -> None:
        """Run several statements separated by semicolons."""
        from .common import run_script

        run_script(self, sql)

    def query(self, sql: str, params=None) -> Iterator[dict]:
        """Rows of a query as dicts."""
        cur = self.conn.execute(sql, params)
        names = [c.name for c in cur.description or []]
        for row in cur.fetchall():
            yield dict(zip(names, row, strict=True))

    @contextmanager
    def atomic(self) -> Iterator[PostgresDatabase]:
        """One transaction (a savepoint when nested); rolled back if the block raises."""
        self._depth += 1
        name = f"s{self._depth}"
        nested = self.conn.in_transaction
        self._raw.execute(f"SAVEPOINT {name}" if nested else "BEGIN")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self._raw.execute(f"ROLLBACK TO SAVEPOINT {name}" if nested else "ROLLBACK")
            raise
        else:
            self._raw.execute(f"RELEASE SAVEPOINT {name}" if nested else "COMMIT")
        finally:
            self._depth -= 1

    def table_names(self) -> list[str]:
        """Tables in the public schema."""
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        return [row[0] for row in self.execute(sql).fetchall()]

    def close(self) -> None:
        """Give the connection back to its pool (rolling back anything left open)."""
        if self._raw is None:
            return
        raw, self._raw = self._raw, None
        self._pool.putconn(raw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _identity_tables(raw) -> frozenset[str]:
    """Tables whose `id` the database generates (inserts into them return it as lastrowid)."""
    rows = raw.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND column_name = 'id' AND is_identity = 'YES'"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def _configure(raw) -> None:
    """Per-connection settings: autocommit (atomic() opens transactions), numerics as int or float.

    Statements are planned for their actual parameters every time: psycopg prepares a
    statement after a few runs, and a generic plan made while a table was small (a
    sequential scan) would otherwise stay in use after it grows to millions of rows.
    JIT compilation is off: the store's queries are short index reads, and the planner's
    guess for a JSON list parameter (100 items) makes it spend 150 ms compiling a 5 ms query.
    """
    raw.autocommit = True
    raw.execute("SET plan_cache_mode = force_custom_plan")
    raw.execute("SET jit = off")
    raw.adapters.register_loader("numeric", _number_loader())


@lru_cache(maxsize=1)
def _number_loader():
    """A loader giving NUMERIC results (sums, epochs) as int when whole, else float, as SQLite does."""
    from psycopg.adapt import Loader

    class NumberLoader(Loader):
        def load(self, data):
            text = bytes(data).decode()
            return int(text) if text.lstrip("-").isdigit() else float(text)

    return NumberLoader


def pool_for(url: str):
    """This process's connection pool for a database URL (made on first use)."""
    from psycopg_pool import ConnectionPool

    key = (url, os.getpid())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            kwargs = {"password": os.environ[PASSWORD_ENV]} if os.environ.get(PASSWORD_ENV) else {}
            _try_connect(url, kwargs)
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, kwargs=kwargs, configure=_configure,
                                  open=False, name="earshot", timeout=30)  # fmt: skip
            try:
                pool.open(wait=True, timeout=15)
            except Exception as exc:
                pool.close()
                raise StoreError(f"cannot connect to {safe_url(url)}: {_reason(exc)}") from None
            _pools[key] = pool
    return pool


def _try_connect(url: str, kwargs: dict) -> None:
    """Connect once outright, so a refusal is reported at once and with the server's reason."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=15, **kwargs).close()
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {safe_url(url)}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """A one-line reason from a connection failure (the pool wraps the server's answer)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (one URL's, or all)."""
    with _pools_lock:
        for key in [k for k in _pools if url is None or k[0] == url]:
            _pools.pop(key).close()


def connect_postgres(url: str, migrate: bool = True) -> PostgresDatabase:
    """A database on a pooled connection, applying any pending migrations."""
    pool = pool_for(url)
    try:
        raw = pool.getconn()
    except Exception as exc:
        raise StoreError(f"cannot connect to {safe_url(url)}: {_reason(exc)}") from None
    db = PostgresDatabase(url, pool, raw)
    if migrate:
        try:
            if apply_migrations(db):
                db.conn.identity_tables = _identity_tables(raw)
        except BaseException:
            db.close()
            raise
    return db


# --- migrations ----------------------------------------------------------------------

# Steps whose SQLite body cannot run on PostgreSQL, by migration name. 0015 rewrites NUL
# characters that PostgreSQL text can never hold, so there it has nothing to do.
PG_STEPS = {
    "0015_text_without_nul": lambda db: None,
    "0043_complaint_starts": lambda db: _complaint_starts(db),
    "0044_descending_ids": lambda db: _descending_ids(db),
    "0045_search_off_the_write_path": lambda db: _search_off_the_write_path(db),
    "0046_filter_statistics": lambda db: _filter_statistics(db),
    "0047_stored_response_times": lambda db: _stored_response_times(db),
}
# Statements a step needs first on PostgreSQL.
PG_BEFORE = {
    "0001_mentions": ["CREATE EXTENSION IF NOT EXISTS pg_trgm"],
    # A case-insensitive collation for usernames (SQLite's COLLATE NOCASE).
    "0002_people_and_work": [
        "CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
    ],
}


def _applied_names(db: PostgresDatabase) -> set[str]:
    """Names of the migrations already applied (none before the record table exists)."""
    if db.execute("SELECT to_regclass('_migrations')").fetchone()[0] is None:
        return set()
    return {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}


def apply_migrations(db: PostgresDatabase) -> list[str]:
    """Apply the store's pending migrations in order, under an advisory lock so two processes never race."""
    from .schema import MIGRATIONS

    done = _applied_names(db)
    if all(name in done for name, _ in MIGRATIONS):
        return []
    applied = []
    with db.atomic():
        db.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
        # rowid: the order steps ran in, as SQLite's own rowid gives it.
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL, "
            "rowid BIGINT GENERATED ALWAYS AS IDENTITY)"
        )
        done = _applied_names(db)
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with db.atomic():
                for statement in PG_BEFORE.get(name, []):
                    db.execute(statement)
                PG_STEPS.get(name, step)(db)
                db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, utcnow()])
            applied.append(name)
    return applied


# PostgreSQL keeps complaint_starts with triggers. New mentions are handled a statement at a
# time from the transition table, so a COPY of a million mentions is one set-based pass; an
# update or delete is handled per row, and only for rows whose complaint facts changed (the
# WHEN clauses), so a bulk update of statuses or assignees costs nothing here.
_COMPLAINT_STARTS_FUNCTIONS = [
    f"""
CREATE FUNCTION complaint_starts_added() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
    SELECT DISTINCT ON (platform, author_id, brand) platform, author_id, brand, id, created_at FROM new_rows
    WHERE sentiment = 'negative' AND author_id IS NOT NULL
    ORDER BY platform, author_id, brand, created_at, id
    {EARLIER_START};
    RETURN NULL;
END
$body$
""",
    f"""
CREATE FUNCTION complaint_starts_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF OLD.sentiment = 'negative' AND OLD.author_id IS NOT NULL THEN
        -- One hand-over per customer and brand at a time: a concurrent one waits, then sees this one's start.
        PERFORM pg_advisory_xact_lock(hashtextextended(OLD.platform || chr(31) || OLD.author_id || chr(31) || OLD.brand, 0));
        -- The old row was its customer's start: the next earliest complaint takes over.
        DELETE FROM complaint_starts WHERE platform = OLD.platform AND author_id = OLD.author_id
            AND brand = OLD.brand AND mention_id = OLD.id;
        IF FOUND THEN
            INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
            SELECT platform, author_id, brand, id, created_at FROM mentions
            WHERE platform = OLD.platform AND author_id = OLD.author_id AND brand = OLD.brand
              AND sentiment = 'negative' AND author_id IS NOT NULL
            ORDER BY created_at, id LIMIT 1
            {EARLIER_START};
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.sentiment = 'negative' AND NEW.author_id IS NOT NULL THEN
        INSERT INTO complaint_starts (platform, author_id, brand, mention_id, created_at)
        VALUES (NEW.platform, NEW.author_id, NEW.brand, NEW.id, NEW.created_at)
        {EARLIER_START};
    END IF;
    RETURN NULL;
END
$body$
""",
]
_COMPLAINT_STARTS_TRIGGERS = [
    "CREATE TRIGGER complaint_starts_insert AFTER INSERT ON mentions REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaint_starts_added()",
    "CREATE TRIGGER complaint_starts_update AFTER UPDATE OF sentiment, platform, author_id, brand, created_at "
    "ON mentions FOR EACH ROW WHEN ((OLD.sentiment = 'negative' OR NEW.sentiment = 'negative') AND "
    "(OLD.sentiment, OLD.platform, OLD.author_id, OLD.brand, OLD.created_at) IS DISTINCT FROM "
    "(NEW.sentiment, NEW.platform, NEW.author_id, NEW.brand, NEW.created_at)) "
    "EXECUTE FUNCTION complaint_starts_changed()",
    "CREATE TRIGGER complaint_starts_delete AFTER DELETE ON mentions FOR EACH ROW "
    "WHEN (OLD.sentiment = 'negative') EXECUTE FUNCTION complaint_starts_changed()",
]


def _complaint_starts(db: PostgresDatabase) -> None:
    """Migration 0043 on PostgreSQL: the shared table and backfill, then this dialect's triggers."""
    from .common import run_script

    run_script(db, COMPLAINT_STARTS_SQL)
    for statement in [*_COMPLAINT_STARTS_FUNCTIONS, *_COMPLAINT_STARTS_TRIGGERS]:
        db.conn.raw.execute(statement)


def _descending_ids(db: PostgresDatabase) -> None:
    """Migration 0044 on PostgreSQL: the urgency indexes again, with ids in the order queries now ask for."""
    from .common import run_script
    from .schema import ACTIVE_URGENCY_INDEXES

    for name in re.findall(r"CREATE INDEX (\w+)", ACTIVE_URGENCY_INDEXES):
        db.execute(f"DROP INDEX IF EXISTS {name}")
    run_script(db, ACTIVE_URGENCY_INDEXES)


# PostgreSQL's search index lives beside mentions, in search_text, with the trigram index, and is
# kept by the scoring workers rather than by the writer: maintaining a trigram index inside each
# ingest transaction cost more than the rest of the insert. A statement trigger queues the ids of
# new mentions in search_pending (a bare heap: no index to maintain), and a row trigger queues any
# mention whose text changes, after correcting its search_text row at once. Search reads both, and
# checks every candidate against mentions.text, so it is exact whether or not the queue is drained.
_SEARCH_INDEX_SQL = [
    "CREATE TABLE search_text (mention_id BIGINT PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE, "
    "text TEXT NOT NULL)",
    # Rows come and go by the thousand: vacuumed after every 10,000 gone, not after a fifth of the table.
    "CREATE TABLE search_pending (mention_id BIGINT NOT NULL) "
    "WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000)",
    "INSERT INTO search_text (mention_id, text) SELECT id, text FROM mentions",
    "DROP INDEX IF EXISTS mentions_text_trgm",
    "CREATE INDEX search_text_trgm ON search_text USING gin (text gin_trgm_ops)",
    """
CREATE FUNCTION search_pending_added() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO search_pending (mention_id) SELECT id FROM new_rows;
    RETURN NULL;
END
$body$
""",
    """
CREATE FUNCTION search_text_changed() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    UPDATE search_text SET text = NEW.text WHERE mention_id = NEW.id;
    -- Queued as well: an indexing pass running now may have read the old text.
    INSERT INTO search_pending (mention_id) VALUES (NEW.id);
    RETURN NULL;
END
$body$
""",
    "CREATE TRIGGER search_pending_insert AFTER INSERT ON mentions REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_pending_added()",
    "CREATE TRIGGER search_text_update AFTER UPDATE OF text ON mentions FOR EACH ROW "
    "WHEN (OLD.text IS DISTINCT FROM NEW.text) EXECUTE FUNCTION search_text_changed()",
]
# One indexing pass: take up to N queued ids (skipping those another pass holds) and index their current text.
_INDEX_PENDING_SQL = """
WITH taken AS (
    DELETE FROM search_pending WHERE ctid = ANY(ARRAY(SELECT ctid FROM search_pending LIMIT %s FOR UPDATE SKIP LOCKED))
    RETURNING mention_id
), written AS (
    INSERT INTO search_text (mention_id, text)
    SELECT m.id, m.text FROM mentions m WHERE m.id IN (SELECT mention_id FROM taken)
    ON CONFLICT (mention_id) DO UPDATE SET text = excluded.text
)
SELECT count(*) FROM taken
"""


def _search_off_the_write_path(db: PostgresDatabase) -> None:
    """Migration 0045 on PostgreSQL: move the trigram index from mentions to search_text, kept from a queue."""
    for statement in _SEARCH_INDEX_SQL:
        db.conn.raw.execute(statement)


def _filter_statistics(db: PostgresDatabase) -> None:
    """Migration 0046 on PostgreSQL: joint statistics on brand, platform and sentiment.

    The planner otherwise multiplies the three columns' own frequencies, so a brand
    that is never seen on a platform looks as common as any other pair. The dashboard's
    newest-negatives read then walked the whole created_at index backwards looking for
    rows that do not exist (0.8 s at a million mentions) instead of reading the
    (brand, platform, sentiment, created_at) index, where it finds none at once.
    """
    db.execute("CREATE STATISTICS mentions_brand_platform_sentiment (mcv) ON brand, platform, sentiment FROM mentions")
    db.execute("ANALYZE mentions")


# PostgreSQL sets a mention's response time and first responder in the row being written.
_RESPONSE_TIME_SQL = [
    f"""
CREATE FUNCTION mentions_response_time() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.response_minutes := {translate(RESPONSE_MINUTES_SQL.format(row="NEW"), with_params=False)};
    NEW.first_responder := coalesce({translate(FIRST_RESPONDER_SQL.format(mention="NEW.id"), with_params=False)},
                                    NEW.first_responder);
    RETURN NEW;
END
$body$
""",
    "CREATE TRIGGER mentions_response_time BEFORE UPDATE OF first_response_at ON mentions FOR EACH ROW "
    "WHEN (NEW.first_response_at IS NOT NULL) EXECUTE FUNCTION mentions_response_time()",
]


def _stored_response_times(db: PostgresDatabase) -> None:
    """Migration 0047 on PostgreSQL: the shared columns, backfill and index, then this dialect's trigger."""
    from .common import run_script

    run_script(db, RESPONSE_TIMES_SQL)
    for statement in _RESPONSE_TIME_SQL:
        db.conn.raw.execute(statement)


def index_pending_search(db: PostgresDatabase, limit: int) -> int:
    """Index the current text of up to `limit` queued mentions in one transaction; return how many were taken.

    Queued ids whose mention has since been deleted are taken and dropped.
    """
    with db.atomic():
        return db.conn.raw.execute(_INDEX_PENDING_SQL, [limit]).fetchone()[0]


# --- advisory locks (one collection run per source, across machines) ---------------------


class LockHeld(StoreError):
    """Another session holds the advisory lock asked for."""


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a name."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_locks(db: PostgresDatabase, names: list[str]) -> Iterator[None]:
    """Hold session advisory locks on these names (on db's own connection); raise LockHeld naming a taken one.

    A session lock lasts until it is released or the connection ends, so a run
    whose process or machine dies frees its sources by itself.
    """
    held = []
    try:
        for name in names:
            if not db.execute("SELECT pg_try_advisory_lock(?)", [lock_key(name)]).fetchone()[0]:
                raise LockHeld(name)
            held.append(name)
        yield
    finally:
        for name in reversed(held):
            db.execute("SELECT pg_advisory_unlock(?)", [lock_key(name)])
