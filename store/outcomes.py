"""Did answering work: follow-ups to our replies, the outcome of each answered mention, CSAT and fixes."""

from __future__ import annotations

import json
import sqlite3

from .common import PUBLIC_REPLY_STATUSES, StoreError, _marks, _status_in, utcnow
from .schema import THEME_INDEXES

__all__ = [
    "OUTCOMES", "SurveyVoted", "add_fix", "complaint_histories", "theme_examples", "theme_sample",
    "theme_window", "answered_since", "csat_for_mention", "csat_for_reply",
    "followup_targets", "followups_of", "get_outcome", "link_followups", "list_fixes", "mention_followups",
    "OUTCOME_FILTERS", "outcome_condition", "outcome_counts", "record_csat", "record_survey_hit", "save_outcomes",
    "survey_hits_since",
]  # fmt: skip

OUTCOMES = ("satisfied", "still_unhappy", "escalated", "churn_risk", "neutral", "no_reply_yet", "silent")
_PUBLIC = "r." + _status_in(PUBLIC_REPLY_STATUSES)


class SurveyVoted(StoreError):
    """This reply's survey has already been answered."""


# --- Follow-ups -------------------------------------------------------------------


def followup_targets(db, platform: str, since: str) -> list[dict]:
    """Our public replies on a platform sent since ``since`` that have a platform id, with the mention's brand."""
    return list(
        db.query(
            "SELECT r.id, r.external_id, r.sent_at, m.brand FROM replies r JOIN mentions m ON m.id = r.mention_id "
            f"WHERE m.platform = ? AND {_PUBLIC} AND r.external_id IS NOT NULL AND r.sent_at >= ? "
            "ORDER BY r.sent_at, r.id",
            [platform, since],
        )
    )


# No `r.external_id IS NOT NULL` (the join's equality already skips a reply without one): SQLite
# turns it into a range on in_reply_to_id and reads every follow-up on the network for each reply.
_LINK_TO_REPLIES = (
    "INSERT INTO followups (followup_id, mention_id, reply_id, by_customer, linked_at) "
    "SELECT f.id, r.mention_id, r.id, CASE WHEN f.author_id = m.author_id THEN 1 ELSE 0 END, ? "
    "FROM replies r JOIN mentions m ON m.id = r.mention_id "
    "JOIN mentions f ON f.platform = m.platform AND f.in_reply_to_id = r.external_id "
    f"WHERE {_PUBLIC} AND r.sent_at >= ? AND f.id <> m.id "
    "ON CONFLICT (followup_id) DO NOTHING"
)
# Mastodon keys posts by URI but names the parent by its id on the server read: match our reply's URL end.
_LINK_TO_MASTODON_REPLIES = (
    "INSERT INTO followups (followup_id, mention_id, reply_id, by_customer, linked_at) "
    "SELECT f.id, r.mention_id, r.id, CASE WHEN f.author_id = m.author_id THEN 1 ELSE 0 END, ? "
    "FROM replies r JOIN mentions m ON m.id = r.mention_id AND m.platform = 'mastodon' "
    "JOIN mentions f ON f.platform = 'mastodon' AND f.in_reply_to_id IS NOT NULL AND r.url LIKE '%/' || f.in_reply_to_id "
    f"WHERE {_PUBLIC} AND r.url IS NOT NULL AND r.sent_at >= ? AND f.id <> m.id "
    "ON CONFLICT (followup_id) DO NOTHING"
)
# A customer answering their own follow-up stays in the same conversation with us.
_LINK_TO_FOLLOWUPS = (
    "INSERT INTO followups (followup_id, mention_id, reply_id, by_customer, linked_at) "
    "SELECT f.id, l.mention_id, l.reply_id, CASE WHEN f.author_id = m.author_id THEN 1 ELSE 0 END, ? "
    "FROM followups l JOIN mentions p ON p.id = l.followup_id JOIN mentions m ON m.id = l.mention_id "
    "JOIN mentions f ON f.platform = p.platform AND f.in_reply_to_id = p.external_id "
    "WHERE l.linked_at >= ? AND f.author_id = m.author_id "
    "ON CONFLICT (followup_id) DO NOTHING"
)


def link_followups(db, since: str) -> int:
    """Link stored posts that answer our replies sent since ``since`` (and the customer's answers to those)."""
    now = utcnow()
    with db.atomic():
        linked = db.execute(_LINK_TO_REPLIES, [now, since]).rowcount
        linked += db.execute(_LINK_TO_MASTODON_REPLIES, [now, since]).rowcount
        for _ in range(3):  # a few levels deep is a conversation; more is a thread of its own
            more = db.execute(_LINK_TO_FOLLOWUPS, [now, since]).rowcount
            linked += more
            if not more:
                break
    return linked


def answered_since(db, since: str) -> list[dict]:
    """Mentions whose first public reply was sent since ``since``, with that reply."""
    return list(
        db.query(
            "SELECT m.id, m.platform, m.brand, m.author_id, m.text, m.sentiment, m.sentiment_scores, m.intents, "
            "m.created_at, r.id AS reply_id, r.author AS agent, r.sent_at, r.external_id AS reply_external_id "
            "FROM replies r JOIN mentions m ON m.id = r.mention_id "
            f"WHERE {_PUBLIC} AND r.sent_at >= ? AND r.id = (SELECT min(r2.id) FROM replies r2 "
            "WHERE r2.mention_id = r.mention_id AND r2." + _status_in(PUBLIC_REPLY_STATUSES) + ") "
            "ORDER BY r.sent_at",
            [since],
        )
    )


def followups_of(db, mention_ids: list[int]) -> dict[int, list[dict]]:
    """The linked follow-ups of each mention, oldest first."""
    found: dict[int, list[dict]] = {i: [] for i in mention_ids}
    for start in range(0, len(mention_ids), 500):
        batch = mention_ids[start : start + 500]
        rows = db.query(
            "SELECT l.mention_id, l.reply_id, l.by_customer, f.id, f.external_id, f.text, f.url, f.author_handle, "
            "f.created_at, f.sentiment, f.sentiment_scores, f.sentiment_low_confidence, f.intents, f.scored_at "
            "FROM followups l "
            f"JOIN mentions f ON f.id = l.followup_id WHERE l.mention_id IN ({_marks(batch)}) "
            "ORDER BY f.created_at, f.id",
            batch,
        )
        for row in rows:
            found[row["mention_id"]].append(row)
    return found


def save_outcomes(db, rows: list[dict]) -> None:
    """Write outcomes (one per mention), replacing earlier ones."""
    if not rows:
        return
    columns = ("mention_id", "outcome", "evidence", "followup_id", "reply_id", "brand", "platform", "agent",
               "theme", "sentiment_before", "answered_at", "recovered", "decided_at")  # fmt: skip
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    sql = (f"INSERT INTO outcomes ({', '.join(columns)}) VALUES ({_marks(columns)}) "
           f"ON CONFLICT (mention_id) DO UPDATE SET {updates}")  # fmt: skip
    with db.atomic():
        for row in rows:
            values = {**row, "evidence": json.dumps(row["evidence"], ensure_ascii=False)}
            db.execute(sql, [values[c] for c in columns])


def get_outcome(db, mention_id: int) -> dict | None:
    """A mention's outcome with its evidence decoded, or None."""
    rows = list(db.query("SELECT * FROM outcomes WHERE mention_id = ?", [mention_id]))
    if not rows:
        return None
    return {**rows[0], "evidence": json.loads(rows[0]["evidence"])}


def mention_followups(db, mention_id: int) -> list[dict]:
    """One mention's follow-ups, oldest first."""
    return followups_of(db, [mention_id])[mention_id]


def outcome_counts(db, start: str, end: str, brands: list[str], platforms: list[str], silent_before: str) -> list[dict]:
    """Outcomes of mentions answered in [start, end), counted per brand, network, agent, theme and outcome.

    A wait begun before ``silent_before`` counts as silence; CSAT ratings are summed alongside.
    """
    if not brands or not platforms:
        return []
    # Grouped by stored columns alone, in the order of migration 0042's index, so SQLite reads
    # the groups without sorting; the waits gone silent are summed apart and split off below.
    keys = "o.brand, o.platform, o.agent, o.theme, o.sentiment_before, o.recovered, o.outcome"
    answered = (f"SELECT {keys}, o.reply_id, CASE WHEN o.outcome = 'no_reply_yet' AND o.answered_at < ? THEN 1 "
                "ELSE 0 END AS late FROM outcomes o WHERE o.answered_at >= ? AND o.answered_at < ? "
                f"AND o.brand IN ({_marks(brands)}) AND o.platform IN ({_marks(platforms)})")  # fmt: skip
    rated, good = "CASE WHEN c.rating IS NULL THEN 0 ELSE 1 END", "CASE WHEN c.rating >= 4 THEN 1 ELSE 0 END"
    sql = (f"SELECT {keys}, count(*) AS n, sum({rated}) AS ratings, COALESCE(sum(c.rating), 0) AS rating_sum, "
           f"sum({good}) AS good, sum(o.late) AS late_n, sum(o.late * {rated}) AS late_ratings, "
           f"COALESCE(sum(o.late * c.rating), 0) AS late_rating_sum, sum(o.late * {good}) AS late_good "
           f"FROM ({answered}) o LEFT JOIN csat_responses c ON c.reply_id = o.reply_id GROUP BY {keys}")  # fmt: skip
    rows = db.query(sql, [silent_before, start, end, *brands, *platforms])
    return [part for row in rows for part in _split_silent(row)]


_COUNTS = ("n", "ratings", "rating_sum", "good")


def _split_silent(row: dict) -> list[dict]:
    """A group of counts, with its waits gone silent split off as a group of their own."""
    late = {k: row.pop(f"late_{k}") or 0 for k in _COUNTS}
    if not late["n"]:
        return [row]
    waiting = {**row, **{k: (row[k] or 0) - late[k] for k in _COUNTS}}
    silent = {**row, **late, "outcome": "silent"}
    return [silent, waiting] if waiting["n"] else [silent]


# The inbox's outcome filter: one outcome, or everyone worth a second reply.
OUTCOME_FILTERS = {
    "second_reply": ("still_unhappy", "escalated", "churn_risk"),
    **{o: (o,) for o in OUTCOMES},
}


def outcome_condition(choice: str) -> str:
    """A SQL condition on ``m.id`` for the inbox's outcome filter (values are fixed words, written out)."""
    listed = ", ".join(f"'{o}'" for o in OUTCOME_FILTERS.get(choice, ()))
    return f"m.id IN (SELECT mention_id FROM outcomes WHERE outcome IN ({listed or 'NULL'}))"


# --- Retention ----------------------------------------------------------------------


# Read from complaint_starts (0043), which triggers keep as mentions are scored: the newest
# first complaints of the range, in the order of its (created_at, mention_id) index.
_NEWEST_STARTS = (
    "SELECT s.mention_id, s.platform, s.author_id, s.brand, s.created_at FROM complaint_starts s "
    "WHERE s.created_at >= ? AND s.created_at < ? AND s.brand IN ({brands}) "
    "ORDER BY s.created_at DESC, s.mention_id DESC LIMIT ?"
)


# Each of those complaints with the customer's later posts about the same brand (none: one row
# of NULLs), the posts read from the author index alone (0048), in one statement and so one snapshot.
_COMPLAINT_HISTORIES = (
    "SELECT s.mention_id AS complaint_id, s.created_at AS complained_at, m.first_response_at, "
    "p.id, p.sentiment, p.intents, p.created_at, CASE WHEN l.followup_id IS NULL THEN 0 ELSE 1 END AS followup "
    f"FROM ({_NEWEST_STARTS}) s JOIN mentions m ON m.id = s.mention_id "
    "LEFT JOIN mentions p INDEXED BY mentions_author ON p.platform = s.platform AND p.author_id = s.author_id "
    "AND p.created_at > s.created_at AND p.brand || '' = s.brand "
    "LEFT JOIN followups l ON l.followup_id = p.id "
    "ORDER BY s.created_at DESC, s.mention_id DESC, p.created_at, p.id"
)


def complaint_histories(db, start: str, end: str, brands: list[str], limit: int) -> list[dict]:
    """The newest ``limit`` first complaints in [start, end), each with what the customer posted later.

    A first complaint is a customer's first negative mention of a brand. Each comes with its
    id, created_at and first_response_at, and ``posts``: the same account's later posts about
    the brand, oldest first, follow-ups to our replies marked. A post's text is read only where
    its intents are not a stored list (not yet scored), for retention to look for leaving in its words.
    """
    if not brands:
        return []
    complaints: dict[int, dict] = {}
    posts = []
    for row in db.query(_COMPLAINT_HISTORIES.format(brands=_marks(brands)), [start, end, *brands, limit]):
        complaint = complaints.get(row["complaint_id"])
        if complaint is None:
            complaint = complaints[row["complaint_id"]] = {
                "id": row["complaint_id"], "created_at": row["complained_at"],
                "first_response_at": row["first_response_at"], "posts": [],
            }  # fmt: skip
        if row["id"] is not None:
            post = {k: row[k] for k in ("id", "sentiment", "intents", "created_at", "followup")}
            complaint["posts"].append(post)
            posts.append(post)
    unlisted = [p["id"] for p in posts if not _stored_list(p["intents"])]
    texts = {}
    for first in range(0, len(unlisted), 500):
        part = unlisted[first : first + 500]
        texts.update(db.execute(f"SELECT id, text FROM mentions WHERE id IN ({_marks(part)})", part).fetchall())
    for post in posts:
        post["text"] = texts.get(post["id"])
    return list(complaints.values())


def _stored_list(intents: str | None) -> bool:
    """Whether stored intents look like the JSON list the classifier writes (checked without parsing)."""
    return bool(intents) and intents.startswith("[") and intents.endswith("]")


# --- Complaint themes -----------------------------------------------------------------


def theme_sample(db, start: str, end: str, brands: list[str], platforms: list[str],
                 limit: int) -> tuple[int, list[str | None]]:  # fmt: skip
    """Negative mentions in [start, end): how many (counted on the reputation index), and the newest ``limit``'s intents."""
    if not brands or not platforms:
        return 0, []
    where = (f"brand IN ({_marks(brands)}) AND platform IN ({_marks(platforms)}) AND sentiment = 'negative' "
             "AND created_at >= ? AND created_at < ?")  # fmt: skip
    params = [*brands, *platforms, start, end]
    total = db.execute(f"SELECT count(*) FROM mentions WHERE {where}", params).fetchone()[0]
    rows = db.execute(f"SELECT intents FROM mentions WHERE {where} ORDER BY created_at DESC LIMIT ?",
                      [*params, limit]).fetchall()  # fmt: skip
    return total, [r[0] for r in rows]


def _theme_like(theme: str) -> str:
    """A LIKE pattern for a theme inside a stored intents list (intent names are plain words)."""
    return '%"' + "".join(c for c in theme if c.isalnum() or c == "_") + '"%'


def theme_window(db, brand: str, theme: str, start: str, end: str) -> dict[str, int]:
    """Mentions of a brand whose intents include ``theme`` in [start, end), by sentiment."""
    # A theme with its own index (0041) is counted from its entries alone, one range per sentiment.
    if theme in THEME_INDEXES:
        source, like, params = f"mentions INDEXED BY mentions_theme_{theme}", f"'{_theme_like(theme)}'", []
    else:
        source, like, params = "mentions", "?", [_theme_like(theme)]
    where = f"FROM {source} WHERE brand = ? AND intents LIKE {like} AND created_at >= ? AND created_at < ?"
    values = [brand, *params, start, end]
    rows = db.execute(
        f"SELECT sentiment, count(*) {where} AND sentiment IN ('negative', 'neutral', 'positive') GROUP BY sentiment "
        f"UNION ALL SELECT NULL, count(*) {where} AND sentiment IS NULL", [*values, *values]).fetchall()  # fmt: skip
    return {sentiment or "unscored": n for sentiment, n in rows if n}


def theme_examples(db, theme: str, start: str, end: str, brands: list[str], limit: int = 3) -> list[dict]:
    """The newest negative mentions with a theme in [start, end)."""
    if not brands:
        return []
    return list(db.query(
        f"SELECT id, text, author_handle, created_at FROM mentions WHERE sentiment = 'negative' AND brand IN ({_marks(brands)}) "
        "AND intents LIKE ? AND created_at >= ? AND created_at < ? ORDER BY created_at DESC LIMIT ?",
        [*brands, _theme_like(theme), start, end, limit]))  # fmt: skip


# --- CSAT ---------------------------------------------------------------------------


def record_csat(db, reply_id: int, mention_id: int, rating: int, comment: str | None) -> None:
    """Store a survey answer; raise SurveyVoted when this reply's survey was already answered."""
    try:
        with db.atomic():
            db.execute(
                "INSERT INTO csat_responses (reply_id, mention_id, rating, comment, created_at) VALUES (?, ?, ?, ?, ?)",
                [reply_id, mention_id, rating, comment, utcnow()],
            )
    except sqlite3.IntegrityError as exc:
        raise SurveyVoted("this survey has already been answered") from exc


def csat_for_reply(db, reply_id: int) -> dict | None:
    """The survey answer for a reply, or None."""
    rows = list(db.query("SELECT * FROM csat_responses WHERE reply_id = ?", [reply_id]))
    return rows[0] if rows else None


def csat_for_mention(db, mention_id: int) -> list[dict]:
    """Survey answers given about a mention's replies."""
    return list(db.query("SELECT * FROM csat_responses WHERE mention_id = ? ORDER BY id", [mention_id]))


def survey_hits_since(db, address: str, since: str) -> int:
    """How many survey submissions came from an address since a time."""
    return db.execute(
        "SELECT count(*) FROM survey_hits WHERE address = ? AND at >= ?", [address, since]
    ).fetchone()[0]


def record_survey_hit(db, address: str) -> None:
    """Count one survey submission from an address (the rate limit's ledger)."""
    with db.atomic():
        db.execute("INSERT INTO survey_hits (address, at) VALUES (?, ?)", [address, utcnow()])


# --- Fixes ----------------------------------------------------------------------------


def add_fix(db, brand: str, theme: str, note: str, fixed_on: str, actor: str) -> None:
    """Record a product or process fix against a complaint theme."""
    with db.atomic():
        db.execute(
            "INSERT INTO fixes (brand, theme, note, fixed_on, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [brand, theme, note, fixed_on, actor, utcnow()],
        )


def list_fixes(db, brands: list[str] | None = None) -> list[dict]:
    """Recorded fixes, newest first."""
    if brands:
        return list(
            db.query(f"SELECT * FROM fixes WHERE brand IN ({_marks(brands)}) ORDER BY fixed_on DESC", brands)
        )
    return list(db.query("SELECT * FROM fixes ORDER BY fixed_on DESC"))
