"""Customers: one person's accounts on several networks, linked by staff, and their history across all of them.

An account is (platform, author_id). It belongs to at most one customer; a
customer exists while at least two accounts are linked. Linking and unlinking
are audited on the mention where staff did it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .common import _PUBLIC_SQL, StoreError, _marks, utcnow
from .inbox import LIST_COLUMNS
from .users import audit

# The accounts of the person behind (platform, author_id): their own, and every account linked to it.
_ACCOUNTS_CTE = (
    "WITH person(platform, author_id) AS ("
    "SELECT o.platform, o.author_id FROM customer_accounts c "
    "JOIN customer_accounts o ON o.customer_id = c.customer_id WHERE c.platform = ? AND c.author_id = ? "
    "UNION SELECT CAST(? AS TEXT), CAST(? AS TEXT)) "
)


class CustomerError(StoreError):
    """An account could not be linked or unlinked; the message says why, for staff."""


def _person(mention: dict) -> list:
    """The parameters of _ACCOUNTS_CTE for a mention's author."""
    key = [mention["platform"], mention["author_id"]]
    return key + key


def customer_accounts(db, mention: dict) -> list[dict]:
    """Every account linked to the mention's author (their own included), by platform."""
    if not mention.get("author_id"):
        return []
    sql = (
        _ACCOUNTS_CTE + "SELECT p.platform, p.author_id, "
        "(SELECT a.handle FROM authors a WHERE a.platform = p.platform AND a.author_id = p.author_id) AS handle, "
        "(SELECT c.customer_id FROM customer_accounts c WHERE c.platform = p.platform AND c.author_id = p.author_id) "
        "AS customer_id FROM person p ORDER BY p.platform, p.author_id"
    )
    return list(db.query(sql, _person(mention)))


def customer_mentions(db, mention: dict, limit: int = 10) -> list[dict]:
    """The person's other mentions on every linked account, newest first."""
    sql = (
        _ACCOUNTS_CTE + f"SELECT {LIST_COLUMNS} FROM mentions m "
        "JOIN person p ON m.platform = p.platform AND m.author_id = p.author_id "
        "WHERE m.id != ? ORDER BY m.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [*_person(mention), mention["id"], limit]))


def customer_replies(db, mention: dict, limit: int = 10) -> list[dict]:
    """Our public replies to the person on any linked account, newest first."""
    sql = (
        _ACCOUNTS_CTE + "SELECT r.*, m.text AS mention_text, m.platform AS platform FROM mentions m "
        "JOIN person p ON m.platform = p.platform AND m.author_id = p.author_id "
        f"JOIN replies r ON r.mention_id = m.id WHERE r.{_PUBLIC_SQL} ORDER BY r.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [*_person(mention), limit]))


def is_returning(db, mention: dict) -> bool:
    """Whether we answered the person, on any linked account, before this mention."""
    sql = (
        _ACCOUNTS_CTE + "SELECT EXISTS (SELECT 1 FROM mentions m "
        "JOIN person p ON m.platform = p.platform AND m.author_id = p.author_id "
        f"JOIN replies r ON r.mention_id = m.id WHERE m.created_at < ? AND r.{_PUBLIC_SQL})"
    )
    return bool(db.execute(sql, [*_person(mention), mention["created_at"]]).fetchone()[0])


def thank_you_customers(db, brands: Iterable[str], limit: int = 50) -> list[dict]:
    """Unanswered positive mentions from people we answered before, on this or a linked account."""
    brands = list(brands) or [""]
    sql = (
        "WITH answered_accounts AS (SELECT p.platform, p.author_id, min(p.created_at) AS first_at "
        f"FROM replies r JOIN mentions p ON p.id = r.mention_id WHERE r.{_PUBLIC_SQL} AND p.author_id IS NOT NULL "
        "GROUP BY p.platform, p.author_id), "
        "expanded AS (SELECT platform, author_id, first_at FROM answered_accounts UNION ALL "
        "SELECT o.platform, o.author_id, a.first_at FROM answered_accounts a "
        "JOIN customer_accounts c ON c.platform = a.platform AND c.author_id = a.author_id "
        "JOIN customer_accounts o ON o.customer_id = c.customer_id), "
        "answered AS (SELECT platform, author_id, min(first_at) AS first_at FROM expanded GROUP BY platform, author_id) "
        f"SELECT {LIST_COLUMNS} FROM answered a JOIN mentions m "
        "ON m.platform = a.platform AND m.author_id = a.author_id AND m.created_at > a.first_at "
        "WHERE m.sentiment = 'positive' AND m.first_response_at IS NULL AND m.status != 'ignored' "
        f"AND m.brand IN ({_marks(brands)}) ORDER BY m.created_at DESC LIMIT ?"
    )
    return list(db.query(sql, [*brands, limit]))


def find_account(db, platform: str, handle: str) -> str | None:
    """The author_id of a stored author on a platform by handle (case-insensitive, without "@")."""
    row = db.execute(
        "SELECT author_id FROM authors WHERE platform = ? AND lower(handle) = lower(?) ORDER BY last_seen DESC LIMIT 1",
        [platform, handle.strip().lstrip("@")],
    ).fetchone()
    return row[0] if row else None


def link_account(db, mention: dict, platform: str, handle: str, actor: str) -> int:
    """Link the account ``handle`` on ``platform`` to the mention's author as one customer; return the customer id.

    Raise CustomerError when the account is unknown, is the author's own, or belongs to another customer.
    """
    if not mention.get("author_id"):
        raise CustomerError("This mention's author is unknown, so no account can be linked to them.")
    other = find_account(db, platform, handle)
    if other is None:
        raise CustomerError(
            f"No stored mention comes from {handle} on {platform}; link accounts Earshot has heard."
        )
    if (platform, other) == (mention["platform"], mention["author_id"]):
        raise CustomerError("That is this author's own account.")
    with db.atomic():
        mine, theirs = (
            _customer_of(db, mention["platform"], mention["author_id"]),
            _customer_of(db, platform, other),
        )
        if theirs is not None and mine is not None and theirs != mine:
            raise CustomerError(
                f"{handle} on {platform} is linked to another customer; unlink it there first."
            )
        customer = mine or theirs or _new_customer(db, actor)
        for account in ((mention["platform"], mention["author_id"]), (platform, other)):
            db.execute(
                "INSERT INTO customer_accounts (customer_id, platform, author_id, linked_at, linked_by) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, author_id) DO NOTHING",
                [customer, *account, utcnow(), actor],
            )
        audit(
            db,
            actor,
            "customer.link",
            mention["id"],
            {"customer": customer, "platform": platform, "handle": handle},
        )
    return customer


def unlink_account(db, mention: dict, platform: str, author_id: str, actor: str) -> None:
    """Take one account out of the mention author's customer; a customer left with one account is dissolved."""
    customer = _customer_of(db, mention["platform"], mention["author_id"])
    if customer is None or _customer_of(db, platform, author_id) != customer:
        raise CustomerError("That account is not linked to this author.")
    with db.atomic():
        db.execute(
            "DELETE FROM customer_accounts WHERE platform = ? AND author_id = ?", [platform, author_id]
        )
        left = db.execute(
            "SELECT count(*) FROM customer_accounts WHERE customer_id = ?", [customer]
        ).fetchone()[0]
        if left < 2:
            db.execute("DELETE FROM customer_accounts WHERE customer_id = ?", [customer])
            db.execute("DELETE FROM customers WHERE id = ?", [customer])
        audit(db, actor, "customer.unlink", mention["id"], {"customer": customer, "platform": platform,
                                                             "author_id": author_id})  # fmt: skip


def _customer_of(db, platform: str, author_id: str) -> int | None:
    """The customer an account belongs to, or None."""
    row = db.execute(
        "SELECT customer_id FROM customer_accounts WHERE platform = ? AND author_id = ?",
        [platform, author_id],
    ).fetchone()
    return row[0] if row else None


def _new_customer(db, actor: str) -> int:
    """A new customer record; its id."""
    row = db.execute(
        "INSERT INTO customers (created_at, created_by) VALUES (?, ?) RETURNING id", [utcnow(), actor]
    )
    return row.fetchone()[0]
