"""Collection state: cursors and the history of collector runs."""

from __future__ import annotations

import os
import socket

from .common import StoreError, _marks, utcnow


def collector_runs(db, source: str, limit: int = 10) -> list[dict]:
    """A source's most recent collector runs, newest first."""
    sql = "SELECT * FROM collector_runs WHERE source = ? ORDER BY started_at DESC, id DESC LIMIT ?"
    return list(db.query(sql, [source, limit]))



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
