"""Mentions as collectors and imports write them: keyed upserts, authors, lookups and streaming."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import sqlite_utils

from .common import _count, _is_storable, _marks, _storable, utcnow

# Columns a collector or an import may write. Staff fields (status, assignee,
# tags, notes, corrections) and classifier fields are deliberately absent, so
# re-collecting a mention can never reset them.
COLLECTED_COLUMNS = (
    "platform", "external_id", "brand", "query", "text", "language", "url",
    "author_id", "author_handle", "author_name", "author_reach",
    "created_at", "collected_at", "like_count", "repost_count", "reply_count",
    "in_reply_to_id", "conversation_id", "thread_id",
    "mentions_brand_handle", "in_reply_to_brand", "reply_via_api", "raw",
)  # fmt: skip

# On re-collection only what can change on the platform is refreshed.
REFRESHED_COLUMNS = (
    "text", "author_handle", "author_name", "author_reach",
    "like_count", "repost_count", "reply_count", "raw",
)  # fmt: skip

_UPSERT_SQL = (
    f"INSERT INTO mentions ({', '.join(COLLECTED_COLUMNS)}, updated_at) "
    f"VALUES ({', '.join('?' for _ in COLLECTED_COLUMNS)}, ?) "
    "ON CONFLICT (platform, external_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in REFRESHED_COLUMNS)
    + ", updated_at = excluded.updated_at"
)


_COLUMN_AT = {name: i for i, name in enumerate(COLLECTED_COLUMNS)}
_COUNT_AT = [_COLUMN_AT[c] for c in ("author_reach", "like_count", "repost_count", "reply_count")]
_FLAG_AT = [_COLUMN_AT[c] for c in ("mentions_brand_handle", "in_reply_to_brand", "reply_via_api")]
_RAW_AT, _EXTERNAL_AT, _COLLECTED_AT = (_COLUMN_AT[c] for c in ("raw", "external_id", "collected_at"))


def _mention_params(row: dict, now: str) -> list:
    """Order one mention dict as upsert parameters."""
    get = row.get
    params = [get(c) for c in COLLECTED_COLUMNS]
    raw = params[_RAW_AT]
    if raw is not None and not isinstance(raw, str):
        params[_RAW_AT] = json.dumps(raw, ensure_ascii=False)
    if not _all_storable(params):
        params = [_storable(p) for p in params]
    for i in _COUNT_AT:
        params[i] = int(params[i] or 0)
    for i in _FLAG_AT:
        params[i] = 1 if params[i] else 0
    params[_EXTERNAL_AT] = str(params[_EXTERNAL_AT])
    params[_COLLECTED_AT] = params[_COLLECTED_AT] or now
    params.append(now)
    return params


def _all_storable(values: list) -> bool:
    """Whether every text value of a row is stored as it is, checked once over all of them."""
    return _is_storable("".join([v for v in values if isinstance(v, str)]))


def upsert_mentions(db: sqlite_utils.Database, rows: Iterable[dict]) -> tuple[int, int]:
    """Insert or refresh mentions by (platform, external_id); return (new, updated).

    Call inside `db.atomic()` together with the cursor that covers the rows.
    """
    rows = list(_last_of_each(rows))
    if not rows:
        return 0, 0
    now = utcnow()
    keys = {(r["platform"], str(r["external_id"])) for r in rows}
    existing = mention_ids(db, keys)
    last_id = db.conn.execute("SELECT coalesce(max(id), 0) FROM mentions").fetchone()[0]
    db.conn.executemany(_UPSERT_SQL, [_mention_params(r, now) for r in rows])
    # New rows always get ids above the old maximum (we hold the write lock).
    db.conn.execute(
        "INSERT INTO mentions_fts (rowid, text) SELECT id, text FROM mentions WHERE id > ?", [last_id]
    )
    _upsert_authors(db, rows, now)
    return len(keys) - len(existing), len(existing)


def _last_of_each(rows: Iterable[dict]) -> Iterable[dict]:
    """The rows with one per (platform, external_id) key, the last one winning.

    Two versions of one mention in a single statement batch would index the
    search text twice for one row, so a batch never holds the same key twice.
    """
    by_key = {(r["platform"], str(r["external_id"])): r for r in rows}
    return by_key.values()


def mention_ids(db: sqlite_utils.Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The stored ids of mentions by (platform, external_id) key; keys not stored are absent."""
    found: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in {(p, str(e)) for p, e in keys}:
        by_platform.setdefault(platform, []).append(external_id)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT external_id, id FROM mentions WHERE platform = ? AND external_id IN ({_marks(chunk)})"
            found.update(((platform, e), i) for e, i in db.execute(sql, [platform, *chunk]))
    return found


def _upsert_authors(db: sqlite_utils.Database, rows: list[dict], now: str) -> None:
    """Keep the authors table current with the newest handle, name and reach."""
    params = [
        (r["platform"], r["author_id"], r.get("author_handle"), r.get("author_name"),
         int(r.get("author_reach") or 0), r.get("created_at") or now, r.get("created_at") or now)
        for r in rows
        if r.get("author_id")
    ]  # fmt: skip
    db.conn.executemany(
        "INSERT INTO authors (platform, author_id, handle, name, reach, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, author_id) DO UPDATE SET "
        "handle = excluded.handle, name = excluded.name, reach = excluded.reach, "
        "first_seen = min(authors.first_seen, excluded.first_seen), "
        "last_seen = max(authors.last_seen, excluded.last_seen)",
        params,
    )


def catch_up_search(db, batch: int = 5000, passes: int | None = None) -> int:
    """Index queued mentions for search, `batch` per transaction, until the queue is empty; return how many were taken.

    Only PostgreSQL keeps a queue (SQLite indexes in the writer's transaction),
    so on SQLite this returns 0 at once. `passes` bounds the work done per call.
    """
    if db.dialect != "postgresql":
        return 0
    from .postgres import index_pending_search

    done, count = 0, 0
    while passes is None or count < passes:
        taken = index_pending_search(db, batch)
        done, count = done + taken, count + 1
        if taken < batch:  # the queue is empty, or what is left is another pass's
            return done
    return done


def count_mentions(db: sqlite_utils.Database) -> int:
    """How many mentions the database holds."""
    return _count(db, "mentions")


def iter_mentions(db: sqlite_utils.Database, batch: int = 1000) -> Iterator[dict]:
    """Every mention in id order, streamed in batches, with its tags."""
    last = 0
    while True:
        rows = list(
            db.query(
                "SELECT m.*, (SELECT group_concat(tag, ',') FROM tags t WHERE t.mention_id = m.id)"
                " AS tags FROM mentions m WHERE id > ? ORDER BY id LIMIT ?",
                [last, batch],
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def mention_id(db, platform: str, external_id: str) -> int | None:
    """The stored id of a mention by its platform key, or None."""
    row = db.execute(
        "SELECT id FROM mentions WHERE platform = ? AND external_id = ?", [platform, str(external_id)]
    ).fetchone()
    return row[0] if row else None
