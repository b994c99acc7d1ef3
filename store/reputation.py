"""Named queries for the dashboard and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator

from .common import _PUBLIC_SQL, _marks

# Named queries for the dashboard, spike alerts and the report (reputation/). Time
# ranges are half-open, [start, end), in the stored UTC ISO-8601 text. Charts are
# built from range counts on covering indexes, one count per cell, so a dashboard
# over a million mentions reads index entries, never table rows.

SENTIMENTS = ("negative", "neutral", "positive")


def _each(db, alias: str, pairs: bool = False) -> str:
    """A table of the items of a JSON list parameter, one per row in `alias`.value (per dialect)."""
    if db.dialect == "postgresql":
        return f"jsonb_array_elements{'' if pairs else '_text'}(?::jsonb) {alias}"
    return f"json_each(?) {alias}"


def _item(db, ref: str, index: int) -> str:
    """Item `index` of a JSON list value, as text (per dialect)."""
    return f"({ref} ->> {index})" if db.dialect == "postgresql" else f"json_extract({ref}, '$[{index}]')"


def reputation_counts(db, buckets: list[tuple[str, str]], brands: list[str], platforms: list[str]) -> list[tuple]:
    """Scored mentions per (bucket start, brand, sentiment): one index range count per cell."""
    if not (buckets and brands and platforms):
        return []
    start, end = _item(db, "b.value", 0), _item(db, "b.value", 1)
    sql = (
        f"SELECT {start}, br.value, se.value, (SELECT count(*) FROM mentions m "
        f"INDEXED BY mentions_reputation WHERE m.brand = br.value AND m.platform IN ({_marks(platforms)}) "
        "AND m.sentiment = se.value AND m.sentiment IS NOT NULL "
        f"AND m.created_at >= {start} AND m.created_at < {end}) "
        f"FROM {_each(db, 'b', pairs=True)}, {_each(db, 'br')}, {_each(db, 'se')}"
    )
    params = [*platforms, json.dumps(buckets), json.dumps(brands), json.dumps(SENTIMENTS)]
    return db.execute(sql, params).fetchall()


def reputation_unscored(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(created_at, brand) of unscored mentions in the range: few, while the classifier keeps up."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT created_at, brand FROM mentions INDEXED BY mentions_unscored WHERE scored_at IS NULL "
        f"AND created_at >= ? AND created_at < ? AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)})"
    )
    return db.execute(sql, [start, end, *brands, *platforms]).fetchall()


REPUTATION_SAMPLE_COLUMNS = "id, platform, brand, text, author_handle, created_at, url, sentiment, intents"


def reputation_latest(db, start: str, end: str, brands: list[str], platforms: list[str],
                      sentiments: tuple[str, ...], limit: int) -> list[dict]:  # fmt: skip
    """The newest `limit` mentions with these sentiments in the range, newest first."""
    newest: list[tuple[str, int]] = []
    sql = (
        "SELECT created_at, id FROM mentions INDEXED BY mentions_reputation WHERE brand = ? AND platform = ? "
        "AND sentiment = ? AND created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT ?"
    )
    for brand in brands:
        for platform in platforms:
            for sentiment in sentiments:
                newest += db.execute(sql, [brand, platform, sentiment, start, end, limit]).fetchall()
    ids = [mention for _, mention in sorted(newest, reverse=True)[:limit]]
    rows = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        sql = f"SELECT {REPUTATION_SAMPLE_COLUMNS} FROM mentions WHERE id IN ({_marks(part)})"
        rows += db.query(sql, part)
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)


def reputation_answered(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(id, minutes to first response, who sent the first public reply) of answered mentions in the range."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT m.id, (unixepoch(m.first_response_at) - unixepoch(m.created_at)) / 60.0, "
        f"(SELECT r.author FROM replies r INDEXED BY replies_first_public WHERE r.mention_id = m.id AND r.{_PUBLIC_SQL} "
        "ORDER BY r.sent_at LIMIT 1) FROM mentions m INDEXED BY mentions_answered "
        f"WHERE m.first_response_at IS NOT NULL AND m.brand IN ({_marks(brands)}) "
        f"AND m.platform IN ({_marks(platforms)}) AND m.created_at >= ? AND m.created_at < ?"
    )
    return db.execute(sql, [*brands, *platforms, start, end]).fetchall()


def reputation_assigned(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(assignee, assigned, answered) for mentions created in the range and assigned to someone."""
    if not (brands and platforms):
        return []
    sql = (
        "SELECT assignee, count(*), count(first_response_at) FROM mentions INDEXED BY mentions_assigned "
        f"WHERE assignee IS NOT NULL AND created_at >= ? AND created_at < ? AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)}) GROUP BY assignee"
    )
    return db.execute(sql, [start, end, *brands, *platforms]).fetchall()


def reputation_windows(db, brand: str, windows: list[tuple[str, str]], platforms: list[str]) -> list[dict]:
    """Mentions, scored mentions and negative mentions of one brand in each [start, end) window."""
    start, end = _item(db, "w.value", 0), _item(db, "w.value", 1)
    within = f"created_at >= {start} AND created_at < {end}"
    scored = (
        f"FROM mentions INDEXED BY mentions_reputation WHERE brand = ? AND platform IN ({_marks(platforms)}) "
        f"AND sentiment IS NOT NULL AND {within}"
    )
    sql = (
        f"SELECT {start} AS start, {end} AS end, "
        f"(SELECT count(*) FROM mentions INDEXED BY mentions_brand_created WHERE brand = ? AND {within}) AS mentions, "
        f"(SELECT count(*) {scored} AND sentiment IN ({_marks(SENTIMENTS)})) AS scored, "
        f"(SELECT count(*) {scored} AND sentiment = 'negative') AS negative "
        f"FROM {_each(db, 'w', pairs=True)}"
    )
    params = [brand, brand, *platforms, *SENTIMENTS, brand, *platforms, json.dumps(windows)]
    return list(db.query(sql, params))


REPUTATION_EXPORT_COLUMNS = (
    "id", "created_at", "platform", "brand", "author_handle", "language", "sentiment", "urgency",
    "intents", "status", "assignee", "first_response_at", "url", "text",
)  # fmt: skip


def reputation_mentions(db, start: str, end: str, brands: list[str], platforms: list[str],
                        batch: int = 1000) -> Iterator[dict]:  # fmt: skip
    """Mentions in the range for these brands and platforms, oldest first, streamed in batches."""
    if not (brands and platforms):
        return
    sql = (
        f"SELECT {', '.join(REPUTATION_EXPORT_COLUMNS)} FROM mentions INDEXED BY mentions_created "
        "WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR id > ?) "
        f"AND brand IN ({_marks(brands)}) AND platform IN ({_marks(platforms)}) ORDER BY created_at, id LIMIT ?"
    )
    last_at, last_id = start, 0
    while True:
        rows = list(db.query(sql, [last_at, end, last_at, last_id, *brands, *platforms, batch]))
        yield from rows
        if len(rows) < batch:
            return
        last_at, last_id = rows[-1]["created_at"], rows[-1]["id"]
