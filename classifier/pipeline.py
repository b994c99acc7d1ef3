"""Score mentions: sentiment from the model, then urgency, for the database or a JSONL file."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import clock
import formats
import store
from classifier import urgency, versions
from classifier.model import ModelUnavailable, Sentiment, SentimentModel, get_model, load_model
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


def language_key(tag: str | None) -> str:
    """The primary subtag of a language tag, lower case: 'th-TH' -> 'th'."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]


def routed_model(name: str, settings: Settings) -> SentimentModel:
    """The model a language is routed to in `[classifier.languages]`, loaded once."""
    config = settings.classifier
    return load_model(name, config.max_length, config.batch_size)


def score_texts(model: SentimentModel, rows: list[dict], settings: Settings) -> list[Sentiment]:
    """Sentiment per row: the main model, or the model its language is routed to (trusted for it)."""
    routes = settings.classifier.languages
    groups: dict[str | None, list[int]] = {}
    for i, row in enumerate(rows):
        key = language_key(row.get("language"))
        groups.setdefault(key if key in routes else None, []).append(i)
    result: list[Sentiment] = [None] * len(rows)  # type: ignore[list-item]
    for key, indexes in groups.items():
        chosen = model if key is None else routed_model(routes[key], settings)
        texts = [rows[i].get("text") or "" for i in indexes]
        found = chosen.score(texts, [rows[i].get("language") for i in indexes])
        for i, sentiment in zip(indexes, found, strict=True):
            result[i] = sentiment if key is None else dataclasses.replace(sentiment, low_confidence=False)
    return result


def score_rows(model: SentimentModel, rows: list[dict], settings: Settings, now: datetime) -> list[dict]:
    """Sentiment and urgency fields for each row, in order."""
    sentiments = score_texts(model, rows, settings)
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
    done = 0
    if total:
        model = get_model(settings, versions.active_version(db, settings))
        echo(f"Scoring {total} mentions with {model.name}...")
        done = _score_batches(db, model, settings, lambda after: store.mentions_to_score(db, after, CHUNK, rescore),
                              lambda n: echo(f"  {n}/{total} scored"))  # fmt: skip
    refreshed = refresh_urgency(db, settings, clock.now())
    if refreshed:
        echo(f"Refreshed urgency of {refreshed} mentions waiting for a response.")
    return done


def _score_batches(db, model: SentimentModel, settings: Settings, next_rows: Callable[[int], list[dict]],
                   progress: Callable[[int], None]) -> int:  # fmt: skip
    """Score batches from `next_rows(after_id)` until it runs dry, each saved in its own short transaction."""
    done, after = 0, 0
    while rows := next_rows(after):
        scored = score_rows(model, rows, settings, clock.now())
        store.save_scores(db, [{"id": r["id"], **s} for r, s in zip(rows, scored, strict=True)])
        done, after = done + len(rows), rows[-1]["id"]
        progress(done)
    return done


def rescore_open(db, settings: Settings, echo: Callable[[str], None] = log.info) -> int:
    """Score every open mention again with the active version, after a promotion or rollback."""
    model = get_model(settings, versions.active_version(db, settings))
    echo(f"Re-scoring open mentions with {model.name}...")
    done = _score_batches(db, model, settings, lambda after: store.open_mentions_to_score(db, after, CHUNK),
                          lambda n: echo(f"  {n} re-scored"))  # fmt: skip
    echo(f"Re-scored {done} open mentions.")
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
    model = get_model(settings, versions.configured_version(settings))
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


def rescore_in_background(settings, echo: Callable[[str], None] = log.info) -> threading.Thread:
    """Re-score open mentions with the active version on a thread with its own connection."""

    def work() -> None:
        db = store.connect(settings.database)
        try:
            rescore_open(db, settings, echo)
        except ModelUnavailable as exc:
            log.error("re-scoring after a model change failed: %s", exc)
        finally:
            db.close()

    thread = threading.Thread(target=work, name="earshot-rescore", daemon=True)
    thread.start()
    _RESCORING.append(thread)
    return thread


_RESCORING: list[threading.Thread] = []


def wait_for_rescoring(timeout: float | None = None) -> None:
    """Wait for the background re-scoring this process started (tests and shutdown use it)."""
    while _RESCORING:
        _RESCORING.pop().join(timeout)
