"""Staff accounts, login sessions, the login throttle and the audit trail."""

from __future__ import annotations

import json
import sqlite3

from .common import StoreError, _minutes_from_now, utcnow

ROLES = ("admin", "agent", "viewer")


def add_user(db, username: str, password_hash: str, role: str, display_name: str | None = None) -> int:
    """Create a staff user; raise StoreError if the name is taken."""
    try:
        with db.atomic():
            cur = db.execute(
                "INSERT INTO users (username, display_name, password_hash, role, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [username, display_name or username, password_hash, role, utcnow()],
            )
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"cannot add user {username!r}: {_integrity_reason(exc)}") from exc
    return cur.lastrowid


def _integrity_reason(exc: sqlite3.IntegrityError) -> str:
    """A short human reason for a constraint failure."""
    text = str(exc)
    if "UNIQUE" in text:
        return "that name is already taken"
    if "CHECK" in text:
        return "invalid value (role must be one of " + ", ".join(ROLES) + ")"
    return text


def get_user(db, username: str) -> dict | None:
    """A user row by name (case-insensitive), or None."""
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
    return rows[0] if rows else None


def list_users(db) -> list[dict]:
    """All users, by name."""
    return list(db.query("SELECT id, username, display_name, role, created_at, disabled FROM users ORDER BY username"))


def update_user(db, username: str, **fields) -> None:
    """Change a user's role or password hash; raise StoreError if unknown."""
    allowed = {"role", "password_hash", "display_name", "disabled"}
    if not fields or set(fields) - allowed:
        raise StoreError(f"cannot update fields {sorted(set(fields) - allowed)}")
    sets = ", ".join(f"{k} = ?" for k in fields)
    try:
        with db.atomic():
            cur = db.execute(f"UPDATE users SET {sets} WHERE username = ?", [*fields.values(), username])
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"cannot update user {username!r}: {_integrity_reason(exc)}") from exc
    if cur.rowcount == 0:
        raise StoreError(f"no user named {username!r}")


def start_login_session(db, session_id: str, user_id: int, stamp: str, address: str | None,
                        keep_minutes: float) -> None:  # fmt: skip
    """Record a console login, forgetting logins older than `keep_minutes`."""
    with db.atomic():
        db.execute(
            "INSERT INTO login_sessions (id, user_id, stamp, address, created_at) VALUES (?, ?, ?, ?, ?)",
            [session_id, user_id, stamp, address, utcnow()],
        )
        db.execute("DELETE FROM login_sessions WHERE created_at < ?", [_minutes_from_now(-keep_minutes)])


def login_session_user(db, session_id: str, max_age_minutes: float) -> dict | None:
    """The user row of a login session younger than `max_age_minutes`, plus its `session_stamp`; else None."""
    sql = ("SELECT u.*, s.stamp AS session_stamp FROM login_sessions s JOIN users u ON u.id = s.user_id "
           "WHERE s.id = ? AND s.created_at > ?")  # fmt: skip
    rows = list(db.query(sql, [session_id, _minutes_from_now(-max_age_minutes)]))
    return rows[0] if rows else None


def end_login_session(db, session_id: str) -> None:
    """Forget one login session (a logout)."""
    with db.atomic():
        db.execute("DELETE FROM login_sessions WHERE id = ?", [session_id])


def end_user_sessions(db, username: str) -> int:
    """Forget every login session of a user; return how many there were."""
    with db.atomic():
        cur = db.execute(
            "DELETE FROM login_sessions WHERE user_id IN (SELECT id FROM users WHERE username = ?)", [username]
        )
    return cur.rowcount


def audit(db, actor: str, action: str, mention_id: int | None = None, detail: dict | None = None,
          at: str | None = None) -> None:  # fmt: skip
    """Append one entry to the audit log at `at` (default now), inside the caller's transaction."""
    text = json.dumps(detail, ensure_ascii=False) if detail else None
    db.execute(
        "INSERT INTO audit_log (at, actor, action, mention_id, detail) VALUES (?, ?, ?, ?, ?)",
        [at or utcnow(), actor, action, mention_id, text],
    )


def failed_logins(db, username: str, address: str, minutes: float) -> int:
    """Failed logins for this name from this address in the last `minutes`."""
    sql = "SELECT count(*) FROM login_attempts WHERE username = ? AND address = ? AND at > ?"
    return db.execute(sql, [username, address, _minutes_from_now(-minutes)]).fetchone()[0]


def failed_logins_from(db, address: str, minutes: float) -> int:
    """Failed logins from this address, for any name, in the last `minutes`."""
    sql = "SELECT count(*) FROM login_attempts WHERE address = ? AND at > ?"
    return db.execute(sql, [address, _minutes_from_now(-minutes)]).fetchone()[0]


def record_failed_login(db, username: str, address: str, keep_minutes: float = 1440) -> None:
    """Remember a failed login, forgetting attempts older than `keep_minutes`."""
    with db.atomic():
        db.execute("INSERT INTO login_attempts (username, address, at) VALUES (?, ?, ?)", [username, address, utcnow()])
        db.execute("DELETE FROM login_attempts WHERE at < ?", [_minutes_from_now(-keep_minutes)])


def clear_failed_logins(db, username: str, address: str) -> None:
    """Forget failed logins after a successful one."""
    with db.atomic():
        db.execute("DELETE FROM login_attempts WHERE username = ? AND address = ?", [username, address])


def user_display_names(db) -> dict[str, str]:
    """Every staff username with the name colleagues see."""
    rows = db.execute("SELECT username, coalesce(display_name, username) FROM users").fetchall()
    return dict(rows)
