"""What every store module shares: its errors, stored times, the write lock and small SQL helpers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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


WRITE_WAIT_SECONDS = 300.0  # how long a writer waits its turn before giving up with StoreBusy


class StoreBusy(StoreError):
    """Another process held the write lock for longer than a writer waits."""


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


def _marks(values) -> str:
    """One ? per value, for an IN (...) list."""
    return ", ".join("?" for _ in values)


def _storable(value):
    """Text as it is stored: a NUL or a lone surrogate becomes U+FFFD.

    SQLite's search index and the browser both stop reading at a NUL, and a
    lone surrogate (from a malformed payload) is not text SQLite can hold.
    Imports refuse such lines with a reason; collected posts keep the rest.
    """
    if not isinstance(value, str) or _is_storable(value):
        return value
    value = value.replace("\x00", "\ufffd")
    if not _is_storable(value):
        value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


def _is_storable(text: str) -> bool:
    """Whether text is stored as it is: it holds no NUL and no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _count(db: sqlite_utils.Database, table: str) -> int:
    """Exact row count of a table."""
    return db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]



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


def _minutes_from_now(minutes: float) -> str:
    """UTC ISO-8601 time `minutes` from now (negative for the past)."""
    return utc_text(clock.now() + timedelta(minutes=minutes))
