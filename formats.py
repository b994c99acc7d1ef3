"""Earshot's mention file format (JSONL or CSV) for import, export and scoring."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from settings import Brand, Settings
from store import utc_text, utcnow

MAX_TEXT = 40_000
COUNT_FIELDS = ("author_followers", "like_count", "repost_count", "reply_count")
BOOL_FIELDS = ("mentions_brand_handle", "in_reply_to_brand")
TEXT_FIELDS = (
    "id", "platform", "brand", "query", "url", "language", "author", "author_id",
    "author_name", "in_reply_to_id", "conversation_id", "thread_id",
)  # fmt: skip
IMPORT_FIELDS = ("text", *TEXT_FIELDS, *COUNT_FIELDS, "created_at", *BOOL_FIELDS)


class RecordError(ValueError):
    """One input record is malformed; the message says which field and why."""


def read_records(path: str | Path, fmt: str | None = None) -> Iterator[tuple[int, dict | RecordError]]:
    """Yield (line number, record or RecordError) from a JSONL or CSV file."""
    path = Path(path)
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    with open(path, encoding="utf-8", newline="" if fmt == "csv" else None, errors="strict") as fh:
        yield from (_read_csv(fh) if fmt == "csv" else _read_jsonl(fh))


def _read_jsonl(fh: io.TextIOBase) -> Iterator[tuple[int, dict | RecordError]]:
    """Parse JSON objects one per line, reporting bad lines instead of stopping."""
    lineno = 0
    while True:
        lineno += 1
        try:
            line = fh.readline()
        except UnicodeDecodeError as exc:
            yield lineno, RecordError(f"not valid UTF-8 ({exc.reason})")
            continue
        if not line:
            return
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, RecordError(f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        yield lineno, record if isinstance(record, dict) else RecordError("expected a JSON object")


def _read_csv(fh: io.TextIOBase) -> Iterator[tuple[int, dict | RecordError]]:
    """Parse CSV rows with a header line; empty cells count as missing."""
    reader = csv.DictReader(fh)
    for row in reader:
        if None in row:
            yield reader.line_num, RecordError("more cells than header columns")
            continue
        yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}


def to_mention(record: dict, settings: Settings, default_brand: str | None = None) -> dict:
    """Validate one import record and return a store-ready mention row."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError("'text' is required and must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise RecordError(f"'text' is longer than {MAX_TEXT} characters")
    fields = {name: _text_field(record, name) for name in TEXT_FIELDS}
    counts = {name: _count_field(record, name) for name in COUNT_FIELDS}
    brand = _brand(settings, fields["brand"] or default_brand)
    platform = (fields["platform"] or "import").lower()
    handle = fields["author"]
    mentions_handle = _bool_field(record, "mentions_brand_handle")
    if mentions_handle is None:
        mentions_handle = addresses_brand(text, brand, platform)
    in_reply_to_brand = bool(_bool_field(record, "in_reply_to_brand"))
    created_at = parse_time(record.get("created_at")) if record.get("created_at") is not None else utcnow()
    return {
        "platform": platform,
        "external_id": fields["id"] or stable_id(platform, handle, created_at, text),
        "brand": brand.name,
        "query": fields["query"],
        "text": text,
        "language": fields["language"],
        "url": fields["url"],
        "author_id": fields["author_id"] or handle,
        "author_handle": handle,
        "author_name": fields["author_name"] or handle,
        "author_reach": counts["author_followers"],
        "created_at": created_at,
        "like_count": counts["like_count"],
        "repost_count": counts["repost_count"],
        "reply_count": counts["reply_count"],
        "in_reply_to_id": fields["in_reply_to_id"],
        "conversation_id": fields["conversation_id"],
        "thread_id": fields["thread_id"],
        "mentions_brand_handle": mentions_handle,
        "in_reply_to_brand": in_reply_to_brand,
        "reply_via_api": can_reply_via_api(platform, brand, mentions_handle or in_reply_to_brand),
        "raw": record,
    }


def can_reply_via_api(platform: str, brand: Brand, addressed: bool) -> bool:
    """Whether the platform's API will accept our reply to this mention.

    X refuses API replies unless the author @mentioned or quoted the brand;
    competitors are never replied to.
    """
    if brand.competitor:
        return False
    if platform == "x":
        return addressed
    return platform == "reddit"


def addresses_brand(text: str, brand: Brand, platform: str) -> bool:
    """Whether the text @mentions (X) or u/-mentions (Reddit) one of the brand's handles."""
    handles = brand.handles(platform)
    if not handles:
        return False
    prefix = r"(?:/?u/)" if platform == "reddit" else "@"
    pattern = prefix + r"(?:" + "|".join(re.escape(h) for h in handles) + r")\b"
    return re.search(pattern, text, re.IGNORECASE) is not None


def stable_id(platform: str, author: str | None, created_at: str, text: str) -> str:
    """A deterministic id for records without one, so re-imports don't duplicate."""
    digest = hashlib.sha1(f"{platform}\x1f{author}\x1f{created_at}\x1f{text}".encode()).hexdigest()
    return "h" + digest[:20]


def parse_time(value: object) -> str:
    """Parse ISO-8601 or epoch seconds into UTC ISO-8601 ('...Z')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(f"'created_at' is not ISO-8601 or epoch seconds: {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        raise RecordError("'created_at' must be ISO-8601 text or epoch seconds")
    return utc_text(moment)


def _brand(settings: Settings, name: str | None) -> Brand:
    """The configured brand a record belongs to."""
    if not name:
        raise RecordError("'brand' is missing (set it per record or pass --brand)")
    for brand in settings.brands:
        if brand.name.lower() == name.lower():
            return brand
    known = ", ".join(b.name for b in settings.brands)
    raise RecordError(f"'brand' {name!r} is not configured (configured: {known})")


def _text_field(record: dict, name: str) -> str | None:
    """An optional text field; numbers are accepted as ids."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"'{name}' must be text")
    return str(value)


def _count_field(record: dict, name: str) -> int:
    """An optional non-negative integer field (CSV cells are text)."""
    value = record.get(name, 0)
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < 0 or (isinstance(value, float) and not value.is_integer()):
        raise RecordError(f"'{name}' must be a whole number >= 0, got {value!r}")
    return number


def _bool_field(record: dict, name: str) -> bool | None:
    """An optional boolean field: true/false, 1/0 or yes/no."""
    value = record.get(name)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise RecordError(f"'{name}' must be true or false, got {value!r}")


EXPORT_FIELDS = (
    "id", "platform", "brand", "text", "language", "url", "author", "author_id", "author_name",
    "author_followers", "like_count", "repost_count", "reply_count", "created_at",
    "collected_at", "in_reply_to_id", "conversation_id", "mentions_brand_handle",
    "in_reply_to_brand", "status", "assignee", "tags", "sentiment", "sentiment_scores",
    "sentiment_model", "urgency", "urgency_parts",
)  # fmt: skip


def export_record(row: dict) -> dict:
    """A stored mention as an export record (re-importable as-is)."""
    renamed = {"id": "external_id", "author": "author_handle", "author_followers": "author_reach"}
    record = {name: row.get(renamed.get(name, name)) for name in EXPORT_FIELDS}
    for name in BOOL_FIELDS:
        record[name] = bool(record[name])
    for name in ("sentiment_scores", "urgency_parts"):
        if isinstance(record[name], str):
            record[name] = json.loads(record[name])
    record["tags"] = record["tags"].split(",") if record["tags"] else []
    return record


def write_csv_header(fh: io.TextIOBase) -> csv.DictWriter:
    """A CSV writer for export records, with its header written."""
    writer = csv.DictWriter(fh, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    return writer


def csv_row(record: dict) -> dict:
    """Flatten an export record's lists and dicts for a CSV cell."""
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) and k != "tags" else
        (",".join(v) if k == "tags" else v)
        for k, v in record.items()
    }  # fmt: skip
