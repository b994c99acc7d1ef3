"""The classifier's queue: mentions to score, and where their scores and urgency are saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from .common import utcnow

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


def save_scores(db: sqlite_utils.Database, rows: list[dict], unscored_only: bool = False) -> int:
    """Write sentiment, urgency and intents for scored mentions, in one transaction; return rows written.

    With `unscored_only`, a mention someone else scored meanwhile is left as it is.
    """
    now = utcnow()
    params = [
        (r["sentiment"], json.dumps(r["sentiment_scores"]), r["sentiment_model"],
         int(bool(r["sentiment_low_confidence"])), r["urgency"], json.dumps(r["urgency_parts"]),
         json.dumps(r["intents"]), now, now, r["id"])
        for r in rows
    ]  # fmt: skip
    only = " AND scored_at IS NULL" if unscored_only else ""
    with db.atomic():
        cur = db.conn.executemany(
            "UPDATE mentions SET sentiment = ?, sentiment_scores = ?, sentiment_model = ?, "
            "sentiment_low_confidence = ?, urgency = ?, urgency_parts = ?, intents = ?, "
            f"scored_at = ?, updated_at = ? WHERE id = ?{only}",
            params,
        )
    return cur.rowcount


def mentions_awaiting_refresh(db: sqlite_utils.Database, since: str) -> list[dict]:
    """Scored mentions whose waiting time still moves their urgency.

    Open ones created since `since` with no response yet, and answered ones that
    still carry waiting points.
    """
    waiting = (
        "(urgency_parts::jsonb ->> 'waiting')::float"
        if db.dialect == "postgresql"
        else "json_extract(urgency_parts, '$.waiting')"
    )
    sql = (
        f"SELECT {_SCORING_COLUMNS}, sentiment_scores, sentiment_low_confidence FROM mentions "
        "WHERE scored_at IS NOT NULL AND ("
        "  (first_response_at IS NULL AND status IN ('new', 'open') AND created_at >= ?)"
        f"  OR (first_response_at IS NOT NULL AND {waiting} > 0))"
    )
    return list(db.query(sql, [since]))


def save_urgency(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Write recomputed urgency scores and parts."""
    params = [(r["urgency"], json.dumps(r["urgency_parts"]), r["id"]) for r in rows]
    with db.atomic():
        db.conn.executemany("UPDATE mentions SET urgency = ?, urgency_parts = ? WHERE id = ?", params)


# --- The scoring workers' queue (`app.py worker`) ----------------------------------
# On PostgreSQL each worker claims a batch with FOR UPDATE SKIP LOCKED inside one
# transaction that also saves the scores: no two workers ever hold the same row,
# and a worker that dies (or stalls past its lease) loses its transaction, which
# frees its rows for the others. SQLite has one writer and no row locks, so there
# the batch is read without a claim and saved only where no one has scored it yet.

LEASE_SECONDS = 300.0  # how long a worker may hold a claimed batch before the server takes it back


@contextmanager
def claimed_for_scoring(db, limit: int, lease_seconds: float = LEASE_SECONDS) -> Iterator[list[dict]]:
    """A batch of unscored mentions, held for this worker until the block ends (save scores inside it)."""
    if db.dialect != "postgresql":
        yield mentions_to_score(db, 0, limit)
        return
    with db.atomic():
        # The lease: a transaction idle for longer than this is ended by the server, releasing its rows.
        db.execute("SELECT set_config('idle_in_transaction_session_timeout', ?, true)",
                   [str(int(lease_seconds * 1000))])  # fmt: skip
        sql = (
            f"SELECT {_SCORING_COLUMNS} FROM mentions WHERE scored_at IS NULL "
            "ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED"
        )
        yield list(db.query(sql, [limit]))


def save_claimed_scores(db, rows: list[dict]) -> int:
    """Save a claimed batch's scores where the mention is still unscored; return how many were saved."""
    return save_scores(db, rows, unscored_only=True)
