"""Spike alerts and their deliveries."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .common import utcnow
from .users import audit


def add_alert(db, alert: dict, channels: Iterable[str], due_at: str | None = None) -> int:
    """Store an alert and one pending delivery per channel (due at `due_at`, default now); return its id."""
    now = utcnow()
    with db.atomic():
        cur = db.execute(
            "INSERT INTO alerts (brand, kinds, window_start, window_end, mentions, baseline, negative_share, "
            "baseline_negative_share, reason, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [alert["brand"], alert["kinds"], alert["window_start"], alert["window_end"], alert["mentions"],
             alert["baseline"], alert.get("negative_share"), alert.get("baseline_negative_share"),
             alert["reason"], json.dumps(alert.get("detail") or {}, ensure_ascii=False), now],
        )  # fmt: skip
        for channel in channels:
            db.execute(
                "INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at) VALUES (?, ?, ?)",
                [cur.lastrowid, channel, due_at or now],
            )
    return cur.lastrowid


def last_alert_end(db, brand: str) -> str | None:
    """The end of the latest alerted window for a brand, or None (for the cooldown)."""
    row = db.execute("SELECT max(window_end) FROM alerts WHERE brand = ?", [brand]).fetchone()
    return row[0]


def active_alerts(db, since: str, limit: int = 5) -> list[dict]:
    """Alerts raised since `since` that nobody has dismissed, newest first."""
    sql = "SELECT * FROM alerts WHERE created_at >= ? AND dismissed_at IS NULL ORDER BY id DESC LIMIT ?"
    return list(db.query(sql, [since, limit]))


def list_alerts(db, limit: int = 50) -> list[dict]:
    """The latest alerts with each delivery as 'channel: status', newest first."""
    sql = (
        "SELECT a.*, (SELECT group_concat(d.channel || ': ' || d.status, ', ') FROM alert_deliveries d "
        "WHERE d.alert_id = a.id) AS deliveries FROM alerts a ORDER BY a.id DESC LIMIT ?"
    )
    return list(db.query(sql, [limit]))


def get_alert(db, alert_id: int) -> dict | None:
    """One alert, or None."""
    rows = list(db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
    return rows[0] if rows else None


def dismiss_alert(db, alert_id: int, actor: str) -> bool:
    """Take an alert out of the banner; return whether it was still showing."""
    with db.atomic():
        cur = db.execute(
            "UPDATE alerts SET dismissed_at = ?, dismissed_by = ? WHERE id = ? AND dismissed_at IS NULL",
            [utcnow(), actor, alert_id],
        )
        if cur.rowcount:
            audit(db, actor, "alert.dismiss", detail={"alert": alert_id})
    return bool(cur.rowcount)


def due_deliveries(db, now: str, limit: int = 50) -> list[dict]:
    """Pending alert deliveries whose next attempt is due, oldest first."""
    sql = (
        "SELECT * FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?"
    )
    return list(db.query(sql, [now, limit]))


def record_delivery(db, delivery_id: int, error: str | None, retry_at: str | None) -> None:
    """Count one delivery attempt: sent (no error), pending until `retry_at`, or failed for good."""
    status = "sent" if error is None else "pending" if retry_at else "failed"
    now = utcnow()
    with db.atomic():
        db.execute(
            "UPDATE alert_deliveries SET attempts = attempts + 1, status = ?, last_error = ?, "
            "next_attempt_at = coalesce(?, next_attempt_at), sent_at = ? WHERE id = ?",
            [status, error, retry_at, now if error is None else None, delivery_id],
        )


def alert_deliveries(db, alert_id: int) -> list[dict]:
    """An alert's deliveries (one per channel)."""
    return list(db.query("SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id", [alert_id]))
