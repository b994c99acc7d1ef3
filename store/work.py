"""Staff work on mentions: status, assignment, tags, notes, corrections, claims and replies."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import sqlite_utils

from .common import _TAKEN_SQL, PUBLIC_REPLY_STATUSES, STATUSES, StoreError, _marks, _minutes_from_now, utcnow
from .users import _integrity_reason, audit


class ReplyConflict(StoreError):
    """The mention already has a public (or in-flight) reply and no override was given."""

    def __init__(self, reply: dict):
        super().__init__(f"mention {reply['mention_id']} already has a {reply['status']} reply")
        self.reply = reply


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
                "SELECT ?, ?, ?, ?, 'pending', ?, ? WHERE ? = 1 OR NOT EXISTS (SELECT 1 FROM replies "
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


# Demo history (demo/history.py): staff work written at historical times. Tags, notes and
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
