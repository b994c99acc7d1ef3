"""The classifier's queue: mentions to score, and where their scores and urgency are saved."""

from __future__ import annotations

import json

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
