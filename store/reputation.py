"""Named queries for the dashboard and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator

from .common import _marks

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


_BRANCHES = 100  # index reads per statement (SQLite allows 500 parts in one compound SELECT)


def reputation_latest(db, start: str, end: str, brands: list[str], platforms: list[str],
                      sentiments: tuple[str, ...], limit: int) -> list[dict]:  # fmt: skip
    """The newest `limit` mentions with these sentiments in the range, newest first.

    One statement: a newest-first read of the reputation index per (brand, platform, sentiment),
    of times and ids only, keeps the newest `limit`, and only those mentions are then read.
    """
    branch = (
        "SELECT * FROM (SELECT created_at, id FROM mentions INDEXED BY mentions_reputation "
        "WHERE brand = ? AND platform = ? AND sentiment = ? AND created_at >= ? AND created_at < ? "
        "ORDER BY created_at DESC LIMIT ?) AS b{n}"
    )
    cells = [(b, p, s) for b in brands for p in platforms for s in sentiments]
    rows: list[dict] = []
    for first in range(0, len(cells), _BRANCHES):
        part = cells[first : first + _BRANCHES]
        union = " UNION ALL ".join(branch.format(n=n) for n in range(len(part)))
        sql = (
            f"SELECT {REPUTATION_SAMPLE_COLUMNS} FROM mentions WHERE id IN (SELECT id FROM ({union}) AS newest "
            "ORDER BY created_at DESC, id DESC LIMIT ?)"
        )
        params = [value for cell in part for value in (*cell, start, end, limit)]
        rows += db.query(sql, [*params, limit])
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)[:limit]


def reputation_answered(db, start: str, end: str, brands: list[str], platforms: list[str]) -> list[tuple]:
    """(minutes to first response, who sent the first public reply) of answered mentions in the range.

    Both are stored on the mention as it is answered (migration 0047), so this is one index range.
    """
    if not (brands and platforms):
        return []
    sql = (
        "SELECT response_minutes, first_responder FROM mentions INDEXED BY mentions_answered "
        f"WHERE first_response_at IS NOT NULL AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)}) AND created_at >= ? AND created_at < ?"
    )
    return db.execute(sql, [*brands, *platforms, start, end]).fetchall()


def reputation_response_times(db, start: str, end: str, brands: list[str], platforms: list[str],
                              sla_minutes: float) -> dict[str | None, tuple]:  # fmt: skip
    """PostgreSQL only: for the team (key None) and each first responder, (answered, median and p90 minutes,
    answered within the SLA), over answered mentions in the range, worked out by the server.

    The figures reputation.metrics.response_times gives from reputation_answered's rows (SQLite has
    no percentile_cont): percentile_cont interpolates between ranks as it does, and a negative time
    from a clock skew counts as 0 there too.
    """
    if not (brands and platforms):
        return {None: (0, None, None, 0)}
    sql = (
        "SELECT GROUPING(responder), responder, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY minutes), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY minutes), count(*) FILTER (WHERE minutes <= ?) "
        "FROM (SELECT coalesce(first_responder, '(unknown)') AS responder, greatest(response_minutes, 0) AS minutes "
        f"FROM mentions WHERE first_response_at IS NOT NULL AND brand IN ({_marks(brands)}) "
        f"AND platform IN ({_marks(platforms)}) AND created_at >= ? AND created_at < ?) AS answered "
        "GROUP BY GROUPING SETS ((responder), ())"
    )
    rows = db.execute(sql, [sla_minutes, *brands, *platforms, start, end]).fetchall()
    return {None if team else responder: (n, median, p90, within) for team, responder, n, median, p90, within in rows}


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
