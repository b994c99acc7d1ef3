"""The people behind mentions: author profiles, history, returning customers and thank-yous."""

from __future__ import annotations

from collections.abc import Iterable

from .common import _PUBLIC_SQL, _marks
from .inbox import LIST_COLUMNS


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
