"""Mentions as staff see them: the inbox and its filters, search, and one mention's page."""

from __future__ import annotations

import sqlite3
import time

from .common import ACTIVE_SQL, ACTIVE_STATUSES, STATUSES, _marks, utcnow
from .outcomes import outcome_condition

# Named queries for the web console (web/). Lists select only the columns a
# page shows, never `raw`, so a page of 50 stays small on a big database.


INBOX_ORDERS = {
    "urgency": "m.urgency DESC, m.id DESC",
    "newest": "m.created_at DESC, m.id DESC",
    "waiting": "m.created_at ASC, m.id ASC",
}
LIST_COLUMNS = (
    "m.id, m.platform, m.external_id, m.brand, m.text, m.language, m.url, m.author_id, "
    "m.author_handle, m.author_name, m.author_reach, m.created_at, m.status, m.assignee, "
    "m.sentiment, m.sentiment_low_confidence, m.urgency, m.first_response_at, m.reply_via_api"
)


SEARCH_WINDOW = 5000
BROAD_FILTERS = {"status", "brand", "platform", "sentiment", "language"}


def _inbox_where(filters: dict) -> tuple[str, list]:
    """WHERE clause and parameters for the inbox filters, apart from the FTS match.

    Status defaults to 'active'. Search terms shorter than three characters (too
    short for the trigram index) become substring matches here.
    """
    clauses, params = [], []
    status = filters.get("status") or "active"
    if status == "active":
        clauses.append(ACTIVE_SQL)
    elif status != "all":
        clauses.append("m.status = ?")
        params.append(status)
    for column in ("brand", "platform", "sentiment", "language"):
        if filters.get(column):
            clauses.append(f"m.{column} = ?")
            params.append(filters[column])
    if filters.get("assignee") == "none":
        clauses.append("m.assignee IS NULL")
    elif filters.get("assignee"):
        clauses.append("m.assignee = ?")
        params.append(filters["assignee"])
    for key, op in (("since", ">="), ("until", "<")):
        if filters.get(key):
            clauses.append(f"m.created_at {op} ?")
            params.append(filters[key])
    if filters.get("tag"):
        clauses.append("m.id IN (SELECT mention_id FROM tags WHERE tag = ?)")
        params.append(filters["tag"])
    if filters.get("outcome"):
        clauses.append(outcome_condition(filters["outcome"]))
    for term in (t for t in (filters.get("q") or "").split() if len(t) < 3):
        pattern = _contains(term)
        clauses.append("(m.text LIKE ? ESCAPE '\\' OR m.author_handle LIKE ? ESCAPE '\\')")
        params.extend([pattern, pattern])
    return " AND ".join(clauses) or "1 = 1", params


def _contains(term: str) -> str:
    """A LIKE pattern (ESCAPE '\\') matching text that contains `term` literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fts_match(query: str | None) -> str | None:
    """An FTS5 MATCH expression for the search terms of 3+ characters (None if there are none)."""
    terms = [t for t in (query or "").split() if len(t) >= 3]
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms) or None


def _merges_active(filters: dict, order: str) -> bool:
    """Whether this page is the active inbox by urgency.

    That page is read as three short per-status lists merged together: with
    `status = ?` each list can be read in urgency order off an index and stop
    after one page, which `status IN (...)` cannot.
    """
    return order == "urgency" and (filters.get("status") or "active") == "active"


def _active_by_urgency(filters: dict, limit: int, offset: int) -> tuple[str, list]:
    """SQL for a page of the active inbox by urgency: the top rows of each active status, merged.

    Under broad filters only, each list is pinned to the (brand, status, urgency)
    or (status, urgency) index, which SQLite's planner does not always pick.
    """
    index = ""
    if not {key for key, value in filters.items() if value} - BROAD_FILTERS:
        index = "INDEXED BY " + ("mentions_brand_status_urgency" if filters.get("brand") else "mentions_status_urgency")
    parts, params = [], []
    for status in ACTIVE_STATUSES:
        where, where_params = _inbox_where({**filters, "status": status})
        parts.append(
            f"SELECT * FROM (SELECT {LIST_COLUMNS} FROM mentions m {index} "
            f"WHERE {where} ORDER BY {INBOX_ORDERS['urgency']} LIMIT ?) AS part"
        )
        params += [*where_params, limit + offset]
    # Materialized, so tags and claims are looked up for the one page only.
    sql = (
        f"WITH page AS MATERIALIZED (SELECT * FROM ({' UNION ALL '.join(parts)}) m "
        f"ORDER BY {INBOX_ORDERS['urgency']} LIMIT ? OFFSET ?) "
        f"SELECT m.*, {_EXTRAS} FROM page m ORDER BY {INBOX_ORDERS['urgency']}"
    )
    return sql, [*params, limit, offset, utcnow()]


def _matches(db, filters: dict, columns: str, window: int, after_id: int = 0) -> tuple[str, list]:
    """SQL for the newest `window` search matches passing the filters (the FTS index drives it)."""
    where, params = _inbox_where(filters)
    if db.dialect == "postgresql":
        return _pg_matches(filters, columns, window, after_id, where, params)
    sql = (
        f"SELECT {columns} FROM mentions_fts f JOIN mentions m ON m.id = f.rowid "
        f"WHERE mentions_fts MATCH ? AND f.rowid > ? AND {where} ORDER BY f.rowid DESC LIMIT ?"
    )
    return sql, [fts_match(filters.get("q")), after_id, *params, window]


def _pg_matches(filters: dict, columns: str, window: int, after_id: int, where: str, params: list) -> tuple[str, list]:
    """PostgreSQL's _matches: the newest matches among indexed mentions and among those still queued.

    search_text's trigram index serves each ILIKE '%term%'; mentions queued for
    indexing (store/postgres.py) are checked directly. Every candidate is checked
    against its mention's current text, so an edit not yet indexed is never missed.
    """
    terms = [_contains(t) for t in (filters.get("q") or "").split() if len(t) >= 3]
    found = " AND ".join("m.text ILIKE ? ESCAPE '\\'" for _ in terms) or "1 = 0"
    indexed = found.replace("m.text", "s.text")
    branch = f"AND {found} AND m.id > ? AND {where} ORDER BY m.id DESC LIMIT ?"
    # The queue is read first (materialized), so its mentions are looked up by id rather than
    # found by walking every mention newest first in search of a rare word.
    sql = (
        "WITH queued AS MATERIALIZED (SELECT DISTINCT mention_id FROM search_pending) "
        f"SELECT {columns} FROM mentions m WHERE m.id IN ("
        f"(SELECT m.id FROM search_text s JOIN mentions m ON m.id = s.mention_id WHERE {indexed} {branch}) UNION ALL "
        f"(SELECT m.id FROM queued q JOIN mentions m ON m.id = q.mention_id WHERE 1 = 1 {branch})"
        ") ORDER BY m.id DESC LIMIT ?"
    )
    tail = [*terms, after_id, *params, window]
    return sql, [*terms, *tail, *tail, window]


_EXTRAS = (
    "(SELECT group_concat(tag, ',') FROM tags t WHERE t.mention_id = m.id) AS tags, "
    "(SELECT coalesce(u.display_name, c.username) FROM claims c LEFT JOIN users u "
    "ON u.username = c.username WHERE c.mention_id = m.id AND c.expires_at > ?) AS claimed_by"
)
_ORDER_KEYS = {
    "urgency": lambda r: (-(r["urgency"] if r["urgency"] is not None else -1), -r["id"]),
    "newest": lambda r: (_negate(r["created_at"]), -r["id"]),
    "waiting": lambda r: (r["created_at"], r["id"]),
}


def _negate(text: str) -> tuple[int, ...]:
    """A sort key that orders strings descending."""
    return tuple(-ord(c) for c in text)


def inbox_mentions(db, filters: dict, order: str = "urgency", limit: int = 50, offset: int = 0) -> list[dict]:
    """One page of the inbox (no search), with each mention's tags and live claim."""
    if _merges_active(filters, order):
        return list(db.query(*_active_by_urgency(filters, limit, offset)))
    where, params = _inbox_where(filters)
    sql = (
        f"SELECT {LIST_COLUMNS}, {_EXTRAS} FROM mentions m "
        f"WHERE {where} ORDER BY {INBOX_ORDERS[order]} LIMIT ? OFFSET ?"
    )
    return list(db.query(sql, [utcnow(), *params, limit, offset]))


def inbox_status_counts(db, filters: dict, cap: int = 1000,
                        budget_ms: float = 5.0) -> tuple[dict[str, int], set[str]]:  # fmt: skip
    """Mentions per status under the other filters, and the statuses whose count is only a lower bound.

    Each count stops at `cap` rows or after `budget_ms`, so a tab says "1,000+"
    (or "212+") instead of scanning a million rows for a rare combination.
    """
    counts, partial = {}, set()
    for status in STATUSES:
        where, params = _inbox_where({**filters, "status": status})
        counts[status], exact = _count_upto(db, f"SELECT 1 FROM mentions m WHERE {where}", params, cap, budget_ms)
        if not exact:
            partial.add(status)
    return counts, partial


def _count_upto(db, sql: str, params: list, cap: int, budget_ms: float) -> tuple[int, bool]:
    """Count the rows of `sql`, stopping at `cap` or when the time budget runs out; (count, exact)."""
    deadline = time.perf_counter() + budget_ms / 1000
    db.conn.set_progress_handler(lambda: time.perf_counter() > deadline, 5_000)
    count = 0
    try:
        for _ in db.execute(f"{sql} LIMIT ?", [*params, cap]):
            count += 1
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        return count, False
    finally:
        db.conn.set_progress_handler(None, 0)
    return count, count < cap


def search_inbox(db, filters: dict, order: str = "urgency", limit: int = 50,
                 offset: int = 0) -> tuple[list[dict], dict[str, int], bool]:  # fmt: skip
    """A search page: (rows, counts per status, whether the match window was full).

    One pass over the FTS index collects the newest SEARCH_WINDOW matches that
    pass the other filters; counts, status filter, ranking and paging work on
    that window, so a common word costs the same as a rare one.
    """
    sql, params = _matches(db, {**filters, "status": "all"}, "m.id, m.status, m.urgency, m.created_at", SEARCH_WINDOW + 1)
    window = list(db.query(sql, params))
    full = len(window) > SEARCH_WINDOW
    window = window[:SEARCH_WINDOW]
    counts = dict.fromkeys(STATUSES, 0)
    for row in window:
        counts[row["status"]] += 1
    status = filters.get("status") or "active"
    wanted = {"active": ACTIVE_STATUSES, "all": STATUSES}.get(status, (status,))
    page = sorted((r for r in window if r["status"] in wanted), key=_ORDER_KEYS[order])[offset : offset + limit]
    return mentions_by_ids(db, [r["id"] for r in page]), counts, full


def mentions_by_ids(db, ids: list[int]) -> list[dict]:
    """List rows (with tags and claim) for these ids, in the order given."""
    if not ids:
        return []
    rows = {r["id"]: r for r in db.query(f"SELECT {LIST_COLUMNS}, {_EXTRAS} FROM mentions m WHERE m.id IN ({_marks(ids)})",
                                         [utcnow(), *ids])}  # fmt: skip
    return [rows[i] for i in ids if i in rows]


def newest_mention_id(db) -> int:
    """The highest mention id (0 for an empty database)."""
    return db.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]


def mentions_since(db, filters: dict, since_id: int, limit: int = 10) -> list[dict]:
    """Mentions matching the filters that arrived after `since_id`, newest first."""
    if fts_match(filters.get("q")):
        sql, params = _matches(db, filters, LIST_COLUMNS, limit, after_id=since_id)
        return list(db.query(sql, params))
    where, params = _inbox_where(filters)
    sql = f"SELECT {LIST_COLUMNS} FROM mentions m WHERE m.id > ? AND {where} ORDER BY m.id DESC LIMIT ?"
    return list(db.query(sql, [since_id, *params, limit]))


def distinct_values(db, column: str, limit: int = 200) -> list[str]:
    """Distinct values of an indexed column, by skip-scan (fast on big tables).

    Languages other than English have a partial index; English is assumed present.
    """
    table, col, where = {
        "language": ("mentions", "language", "language IS NOT NULL AND language != 'en' AND "),
        "platform": ("mentions", "platform", ""),
        "tag": ("tags", "tag", ""),
    }[column]
    sql = (
        f"WITH RECURSIVE v(x) AS (SELECT min({col}) FROM {table} WHERE {where}{col} > '' UNION ALL "
        f"SELECT (SELECT min({col}) FROM {table} WHERE {where}{col} > v.x) FROM v WHERE v.x IS NOT NULL) "
        "SELECT x FROM v WHERE x IS NOT NULL LIMIT ?"
    )
    values = [row[0] for row in db.execute(sql, [limit]).fetchall()]
    return sorted(["en", *values]) if column == "language" else values


def get_mention(db, mention_id: int) -> dict | None:
    """One mention with every column, or None."""
    rows = list(db.query("SELECT * FROM mentions WHERE id = ?", [mention_id]))
    return rows[0] if rows else None


def thread_context(db, mention: dict, limit: int = 30) -> list[dict]:
    """Other mentions in the same conversation or thread, plus the parent, oldest first."""
    clauses, params = [], []
    for column, key in (("conversation_id", "conversation_id"), ("thread_id", "thread_id"),
                        ("external_id", "in_reply_to_id")):  # fmt: skip
        if mention.get(key):
            clauses.append(f"m.{column} = ?")
            params.append(mention[key])
    if not clauses:
        return []
    sql = (
        f"SELECT {LIST_COLUMNS} FROM mentions m WHERE m.platform = ? AND m.id != ? "
        f"AND ({' OR '.join(clauses)}) ORDER BY m.created_at LIMIT ?"
    )
    return list(db.query(sql, [mention["platform"], mention["id"], *params, limit]))


def mention_tags(db, mention_id: int) -> list[str]:
    """The mention's tags, alphabetically."""
    rows = db.execute("SELECT tag FROM tags WHERE mention_id = ? ORDER BY tag", [mention_id]).fetchall()
    return [row[0] for row in rows]


def mention_notes(db, mention_id: int) -> list[dict]:
    """Internal notes on a mention, oldest first."""
    return list(db.query("SELECT * FROM notes WHERE mention_id = ? ORDER BY id", [mention_id]))


def mention_corrections(db, mention_id: int) -> list[dict]:
    """Staff corrections of sentiment or urgency, newest first."""
    return list(db.query("SELECT * FROM corrections WHERE mention_id = ? ORDER BY id DESC", [mention_id]))


def mention_audit(db, mention_id: int, limit: int = 100) -> list[dict]:
    """The mention's audit trail, newest first."""
    sql = "SELECT * FROM audit_log WHERE mention_id = ? ORDER BY at DESC, id DESC LIMIT ?"
    return list(db.query(sql, [mention_id, limit]))


def mention_replies(db, mention_id: int) -> list[dict]:
    """Every reply attempt on a mention, oldest first."""
    return list(db.query("SELECT * FROM replies WHERE mention_id = ? ORDER BY id", [mention_id]))
