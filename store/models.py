"""Sentiment model versions: candidates, the active one, promotions and rollbacks, and what retraining reads."""

from __future__ import annotations

import json

from .common import ACTIVE_STATUSES, StoreError, utcnow
from .scoring import _SCORING_COLUMNS
from .users import audit

__all__ = [
    "BUNDLED_VERSION", "MODEL_STATUSES", "NoSuchVersion", "activate_model_version", "active_model_version",
    "add_model_version", "get_model_version", "last_trained_at", "model_versions", "new_corrections",
    "open_mentions_to_score", "rollback_target", "training_corrections",
]  # fmt: skip

MODEL_STATUSES = ("active", "candidate", "rejected", "retired")
BUNDLED_VERSION = "bundled"


class NoSuchVersion(StoreError):
    """A model version that was never recorded."""


def _decoded(row: dict | None) -> dict | None:
    """A version row with its JSON figures read back."""
    if row is not None:
        row["figures"] = json.loads(row["figures"] or "{}")
    return row


def add_model_version(db, version: str, folder: str, status: str, figures: dict, reason: str,
                      parent: str | None, corrections_until: int) -> None:  # fmt: skip
    """Record a newly trained version (a candidate or a rejected one) with its gate figures."""
    if status not in ("candidate", "rejected"):
        raise StoreError(f"a new model version is a candidate or rejected, not {status!r}")
    with db.atomic():
        db.execute(
            "INSERT INTO model_versions (version, folder, status, created_at, parent, figures, reason, "
            "corrections_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [version, folder, status, utcnow(), parent, json.dumps(figures), reason, corrections_until],
        )


def model_versions(db) -> list[dict]:
    """Every version, newest first."""
    return [_decoded(r) for r in db.query("SELECT * FROM model_versions ORDER BY id DESC")]


def get_model_version(db, version: str) -> dict:
    """One version; NoSuchVersion when it was never recorded."""
    rows = list(db.query("SELECT * FROM model_versions WHERE version = ?", [version]))
    if not rows:
        raise NoSuchVersion(f"no model version {version!r} (see `python app.py model list`)")
    return _decoded(rows[0])


def active_model_version(db) -> dict:
    """The version that scores mentions now."""
    rows = list(db.query("SELECT * FROM model_versions WHERE status = 'active' ORDER BY id DESC LIMIT 1"))
    return _decoded(rows[0]) if rows else get_model_version(db, BUNDLED_VERSION)


def activate_model_version(db, version: str, actor: str, action: str = "promote") -> dict:
    """Make a recorded, non-rejected version the active one; audited. Returns the promotion row."""
    target = get_model_version(db, version)
    if target["status"] == "rejected" and action == "promote":
        raise StoreError(f"model version {version!r} was rejected by the evaluation gate: {target['reason']}")
    now = utcnow()
    with db.atomic():
        previous = active_model_version(db)["version"]
        if previous == version:
            raise StoreError(f"model version {version!r} is already active")
        db.execute("UPDATE model_versions SET status = 'retired' WHERE status = 'active'", [])
        db.execute(
            "UPDATE model_versions SET status = 'active', promoted_at = ? WHERE version = ?", [now, version]
        )
        row = db.execute(
            "INSERT INTO model_promotions (version, previous, action, actor, at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            [version, previous, action, actor, now],
        ).fetchone()
        audit(db, actor, f"model_{action}", None, {"version": version, "previous": previous})
    return {"id": row[0], "version": version, "previous": previous, "action": action, "at": now}


def rollback_target(db) -> str:
    """The version that was active before the active one."""
    active = active_model_version(db)["version"]
    rows = db.execute(
        "SELECT previous FROM model_promotions WHERE version = ? ORDER BY id DESC LIMIT 1", [active]
    ).fetchall()
    if not rows or rows[0][0] is None:
        raise StoreError(f"nothing to roll back to: {active!r} has been active since the start")
    return rows[0][0]


def training_corrections(db) -> list[dict]:
    """The latest sentiment correction of each mention: correction id, mention id, text and label."""
    return list(
        db.query(
            "SELECT c.id AS id, c.mention_id AS mention_id, m.text AS text, c.value AS label "
            "FROM corrections c JOIN mentions m ON m.id = c.mention_id "
            "WHERE c.field = 'sentiment' AND c.id = ("
            "  SELECT max(id) FROM corrections WHERE mention_id = c.mention_id AND field = 'sentiment')"
            " ORDER BY c.id"
        )
    )


def new_corrections(db) -> int:
    """Sentiment corrections made since the newest version was trained."""
    until = db.execute("SELECT COALESCE(max(corrections_until), 0) FROM model_versions").fetchone()[0]
    sql = "SELECT count(*) FROM corrections WHERE field = 'sentiment' AND id > ?"
    return db.execute(sql, [until]).fetchone()[0]


def last_trained_at(db) -> str | None:
    """When the newest trained version (not the bundled one) was recorded."""
    sql = "SELECT max(created_at) FROM model_versions WHERE version <> ?"
    return db.execute(sql, [BUNDLED_VERSION]).fetchone()[0]


def open_mentions_to_score(db, after_id: int, limit: int) -> list[dict]:
    """The next batch of open (new, open, waiting) mentions with id > after_id, for re-scoring."""
    marks = ", ".join("?" for _ in ACTIVE_STATUSES)
    sql = f"SELECT {_SCORING_COLUMNS} FROM mentions WHERE id > ? AND status IN ({marks}) ORDER BY id LIMIT ?"
    return list(db.query(sql, [after_id, *ACTIVE_STATUSES, limit]))
