"""Staff accounts: password hashing and role changes, shared by the CLI and the console."""

from __future__ import annotations

import functools
import hashlib
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

import store

MIN_PASSWORD = 10


class UserError(Exception):
    """A user could not be created, changed or verified."""


def _check_role(role: str) -> None:
    """Reject roles Earshot doesn't know."""
    if role not in store.ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(store.ROLES)}")


def _check_password(password: str) -> None:
    """Reject passwords too short to be safe."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")


def create(db, username: str, password: str, role: str, display_name: str | None = None) -> None:
    """Add a staff user with a hashed password."""
    _check_role(role)
    _check_password(password)
    try:
        store.add_user(db, username, generate_password_hash(password), role, display_name)
        with db.atomic():
            store.audit(db, "cli", "user.add", detail={"username": username, "role": role})
    except store.StoreError as exc:
        raise UserError(str(exc)) from exc


def set_role(db, username: str, role: str) -> None:
    """Change a user's role."""
    _check_role(role)
    try:
        store.update_user(db, username, role=role)
    except store.StoreError as exc:
        raise UserError(str(exc)) from exc


def reset_password(db, username: str, password: str) -> None:
    """Replace a user's password and end their console sessions."""
    _check_password(password)
    try:
        store.update_user(db, username, password_hash=generate_password_hash(password))
    except store.StoreError as exc:
        raise UserError(str(exc)) from exc
    store.end_user_sessions(db, username)


def verify(db, username: str, password: str) -> dict | None:
    """The user row when the password matches an enabled account, else None."""
    user = store.get_user(db, username)
    if user is None or user["disabled"]:
        # Hash anyway so a missing user takes as long as a wrong password.
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user["password_hash"], password) else None


def session_stamp(user: dict) -> str:
    """A short fingerprint of the user's password hash: a new password ends older sessions.

    Each login session stores the stamp it began with; it is a digest of the
    salted hash, never the hash itself.
    """
    return hashlib.sha256(user["password_hash"].encode()).hexdigest()[:20]


def generate_password() -> str:
    """A random password that is easy to type."""
    return secrets.token_urlsafe(12)


@functools.cache
def _dummy_hash() -> str:
    """A throwaway hash, made once, for constant-time misses."""
    return generate_password_hash(secrets.token_hex(8))
