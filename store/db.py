"""Opening a database: the connection, its settings, and a transaction that waits its turn to write."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from .common import WRITE_WAIT_SECONDS, StoreError, _when_unlocked, begin_immediate
from .postgres import connect_postgres, is_postgres_url
from .schema import apply_migrations


class Database(sqlite_utils.Database):
    """A sqlite-utils database whose transactions take the write lock first.

    SQLite cannot make a transaction that has already read wait for the lock
    when it then writes (in WAL mode it fails at once with "database is
    locked"), so every `atomic()` block starts with BEGIN IMMEDIATE, which
    waits its turn. The connection runs in autocommit mode: nothing opens a
    transaction behind the caller's back, and a lone statement commits at once.
    """

    wait_seconds = WRITE_WAIT_SECONDS
    dialect = "sqlite"  # store modules branch on this where PostgreSQL needs other SQL

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


def connect(path: str | Path, migrate: bool = True) -> Database:
    """Open the database in WAL mode (or a postgresql:// URL), applying any pending migrations."""
    if is_postgres_url(path):
        return connect_postgres(path, migrate)
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
        # Reads map the file rather than copy pages into the cache: the dashboard at a million
        # mentions reads more index pages than the cache holds, and copying them was a fifth of its time.
        db.execute("PRAGMA mmap_size=1073741824")
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
