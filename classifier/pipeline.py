"""Score mentions: sentiment from the model, then urgency, for the database or a JSONL file."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import clock
import formats
import store
from classifier import urgency
from classifier.model import Sentiment, SentimentModel, get_model
from settings import Settings

log = logging.getLogger(__name__)

CHUNK = 256


class ScoreInputError(Exception):
    """The input file for `score` cannot be read."""


def parse_time(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(value: object) -> int:
    """A non-negative integer from a count field; 0 for anything else."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def signals_for(row: dict, sentiment: dict, reliable: bool, now: datetime) -> urgency.Signals:
    """Urgency inputs from a mention row (database or import format) and its sentiment."""
    return urgency.Signals(
        text=row.get("text") or "",
        negative=float(sentiment.get("negative", 0.0)),
        positive=float(sentiment.get("positive", 0.0)),
        sentiment_reliable=reliable,
        mentions_brand_handle=bool(row.get("mentions_brand_handle")),
        in_reply_to_brand=bool(row.get("in_reply_to_brand")),
        author_reach=_count(row.get("author_reach", row.get("author_followers"))),
        like_count=_count(row.get("like_count")),
        repost_count=_count(row.get("repost_count")),
        reply_count=_count(row.get("reply_count")),
        created_at=parse_time(row.get("created_at")),
        first_response_at=parse_time(row.get("first_response_at")),
        now=now,
    )


def rank(row: dict, sentiment: Sentiment, settings: Settings, now: datetime) -> urgency.Urgency:
    """Urgency of one mention given its sentiment."""
    signals = signals_for(row, sentiment.scores, not sentiment.low_confidence, now)
    return urgency.score(signals, settings.urgency, settings.sla.target_minutes)


def score_rows(model: SentimentModel, rows: list[dict], settings: Settings, now: datetime) -> list[dict]:
    """Sentiment and urgency fields for each row, in order."""
    sentiments = model.score([r.get("text") or "" for r in rows], [r.get("language") for r in rows])
    results = []
    for row, sentiment in zip(rows, sentiments, strict=True):
        result = rank(row, sentiment, settings, now)
        results.append(
            {
                "sentiment": sentiment.label,
                "sentiment_scores": sentiment.scores,
                "sentiment_model": sentiment.model,
                "sentiment_low_confidence": sentiment.low_confidence,
                "urgency": result.score,
                "urgency_parts": result.parts,
                "intents": result.intents,
            }
        )
    return results


# --- The database --------------------------------------------------------------


def classify_pending(
    db, settings: Settings, rescore: bool = False, echo: Callable[[str], None] = log.info
) -> int:
    """Score every unscored mention (every mention with rescore), then refresh waiting urgencies."""
    total = store.count_unscored(db, rescore)
    done, after = 0, 0
    if total:
        model = get_model(settings)
        echo(f"Scoring {total} mentions with {model.name}...")
        while rows := store.mentions_to_score(db, after, CHUNK, rescore):
            scored = score_rows(model, rows, settings, clock.now())
            store.save_scores(db, [{"id": r["id"], **s} for r, s in zip(rows, scored, strict=True)])
            done, after = done + len(rows), rows[-1]["id"]
            echo(f"  {done}/{total} scored")
    refreshed = refresh_urgency(db, settings, clock.now())
    if refreshed:
        echo(f"Refreshed urgency of {refreshed} mentions waiting for a response.")
    return done


def refresh_urgency(db, settings: Settings, now: datetime) -> int:
    """Recompute urgency, without the model, for mentions whose waiting time has moved."""
    since = now - timedelta(minutes=settings.sla.target_minutes) - timedelta(days=1)
    rows = store.mentions_awaiting_refresh(db, store.utc_text(since))
    updates = []
    for row in rows:
        scores = json.loads(row["sentiment_scores"] or "{}")
        signals = signals_for(row, scores, not row["sentiment_low_confidence"], now)
        result = urgency.score(signals, settings.urgency, settings.sla.target_minutes)
        updates.append({"id": row["id"], "urgency": result.score, "urgency_parts": result.parts})
    store.save_urgency(db, updates)
    return len(updates)


# --- JSONL files ----------------------------------------------------------------


@dataclass
class FileResult:
    """What `score` did: lines written and the problems met, as 'file:line: reason'."""

    written: int = 0
    problems: list[str] = field(default_factory=list)


def _mentions_handle(text: str, handles: tuple[str, ...]) -> bool:
    """Whether the text tags one of the brand's handles."""
    return any(re.search(rf"@{re.escape(h)}\b", text, re.IGNORECASE) for h in handles)


def read_mentions(path: Path, result: FileResult) -> Iterator[dict]:
    """Mentions from an import-format JSONL file; bad lines are noted in result and skipped."""
    try:
        for number, row in formats.read_records(path, "jsonl"):
            if isinstance(row, formats.RecordError):
                result.problems.append(f"{path}:{number}: {row}")
            elif not isinstance(row.get("text"), str) or not row["text"].strip():
                result.problems.append(f"{path}:{number}: expected an object with a non-empty 'text'")
            else:
                yield row
    except OSError as exc:
        raise ScoreInputError(f"{path}: {exc.strerror or exc}") from None


def _chunked(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    """Lists of up to `size` rows."""
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_file(
    source: Path, target: Path, settings: Settings, brand: str | None, echo: Callable[[str], None]
) -> FileResult:
    """Score an import-format JSONL file into another, keeping every input field."""
    handles = _brand_handles(settings, brand)
    result = FileResult()
    model = get_model(settings)
    now = clock.now()
    with target.open("w", encoding="utf-8") as out:
        for rows in _chunked(read_mentions(source, result), CHUNK):
            for row in rows:
                if "mentions_brand_handle" not in row:
                    row["mentions_brand_handle"] = _mentions_handle(row["text"], handles)
            for row, scored in zip(rows, score_rows(model, rows, settings, now), strict=True):
                out.write(json.dumps({**row, **scored}, ensure_ascii=False) + "\n")
            result.written += len(rows)
            echo(f"  {result.written} scored")
    return result


def _brand_handles(settings: Settings, brand: str | None) -> tuple[str, ...]:
    """All handles of the named brand on every platform (none without --brand)."""
    if not brand:
        return ()
    found = settings.brand(brand)
    return tuple(found.handles("x")) + tuple(found.handles("reddit"))
