"""Earshot's mention file format (JSONL or CSV) for import, export and scoring."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
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


CSV_CELL_LIMIT = 1 << 24  # cells up to 16 MiB parse, so to_mention can say what is too long


def read_records(path: str | Path, fmt: str | None = None) -> Iterator[tuple[int, dict | RecordError]]:
    """Yield (line number, record or RecordError) from a JSONL or CSV file."""
    path = Path(path)
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    with open(path, "rb") as fh:
        yield from (_read_csv(fh) if fmt == "csv" else _read_jsonl(fh))


def _decoded_lines(fh: io.BufferedIOBase, bad: set[int] | None = None) -> Iterator[tuple[int, str | RecordError]]:
    """Each physical line decoded alone, so one bad byte costs one line, not a buffer of them.

    A line that is not UTF-8 is yielded as a RecordError, or, when `bad` is
    given, recorded there by number and yielded with its bad bytes replaced.
    """
    for lineno, raw in enumerate(fh, start=1):
        try:
            yield lineno, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if bad is None:
                yield lineno, RecordError(f"not valid UTF-8 ({exc.reason} at byte {exc.start + 1})")
            else:
                bad.add(lineno)
                yield lineno, raw.decode("utf-8", errors="replace")


def _read_jsonl(fh: io.BufferedIOBase) -> Iterator[tuple[int, dict | RecordError]]:
    """Parse JSON objects one per line, reporting bad lines instead of stopping."""
    for lineno, line in _decoded_lines(fh):
        if isinstance(line, RecordError):
            yield lineno, line
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, RecordError(f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield lineno, RecordError("not valid JSON: nested too deeply")
            continue
        yield lineno, record if isinstance(record, dict) else RecordError("expected a JSON object")


def _read_csv(fh: io.BufferedIOBase) -> Iterator[tuple[int, dict | RecordError]]:
    """Parse CSV rows with a header line; empty cells count as missing.

    Records are numbered by the line they start on (a quoted cell may span lines).
    """
    bad: set[int] = set()
    lines = (line for _, line in _decoded_lines(fh, bad))
    csv.field_size_limit(max(csv.field_size_limit(), CSV_CELL_LIMIT))
    reader = csv.reader(lines)
    header = None
    first = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield first, RecordError(f"not valid CSV: {exc}")
            first = reader.line_num + 1
            continue
        start, first = first, reader.line_num + 1
        if header is None:
            header = cells
            if bad.intersection(range(start, first)):
                yield start, RecordError("the header line is not valid UTF-8; nothing can be read")
                return
            continue
        problem = _csv_problem(cells, header, bad, start, first)
        if problem:
            yield start, problem
        elif any(cells):
            yield start, {k: restore_formula(v) for k, v in zip(header, cells, strict=False) if v != ""}


def _csv_problem(cells: list[str], header: list[str], bad: set[int], start: int, end: int) -> RecordError | None:
    """Why one CSV record cannot be read, or None."""
    invalid = sorted(bad.intersection(range(start, end)))
    if invalid:
        return RecordError(f"not valid UTF-8 (line {invalid[0]})")
    if len(cells) > len(header):
        return RecordError("more cells than header columns")
    return None


def to_mention(record: dict, settings: Settings, default_brand: str | None = None) -> dict:
    """Validate one import record and return a store-ready mention row."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError("'text' is required and must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise RecordError(f"'text' is longer than {MAX_TEXT} characters")
    raw = _raw_json(record)
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
        "raw": raw,
    }


def can_reply_via_api(platform: str, brand: Brand, addressed: bool) -> bool:
    """Whether the platform's API will accept our reply to this mention.

    X refuses API replies unless the author @mentioned or quoted the brand;
    Reddit, Bluesky (unless a thread gate says otherwise, seen when collected)
    and Mastodon take them; competitors are never replied to.
    """
    if brand.competitor:
        return False
    if platform == "x":
        return addressed
    return platform in ("reddit", "bluesky", "mastodon")


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


EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # mention times outside these years are bad data
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_time(value: object) -> str:
    """Parse ISO-8601 or epoch seconds into UTC ISO-8601 ('...Z')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = _from_epoch(value)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(f"'created_at' is not ISO-8601 or epoch seconds: {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        raise RecordError("'created_at' must be ISO-8601 text or epoch seconds")
    if not EARLIEST <= moment < LATEST:
        raise RecordError(f"'created_at' is outside {EARLIEST.year}-{LATEST.year - 1}: {value!r}")
    return utc_text(moment)


def _from_epoch(value: float) -> datetime:
    """A time from epoch seconds, refusing NaN, infinities and times no calendar holds."""
    if not math.isfinite(value) or not EARLIEST.timestamp() <= value < LATEST.timestamp():
        raise RecordError(f"'created_at' is outside {EARLIEST.year}-{LATEST.year - 1}: {value!r}")
    return datetime.fromtimestamp(value, UTC)


def _raw_json(record: dict) -> str:
    """The record as stored JSON, refusing text that is not valid Unicode (a lone surrogate such as \\ud800)."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        field = next((k for k, v in record.items() if not _encodes(k) or not _encodes(v)), "a field")
        raise RecordError(f"'{field}' holds a lone surrogate, which is not valid Unicode text") from None
    return text


def _encodes(value: object) -> bool:
    """Whether a JSON value encodes as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


MAX_COUNT = 2**63 - 1  # the largest integer SQLite stores


def _count_field(record: dict, name: str) -> int:
    """An optional non-negative integer field (CSV cells are text)."""
    value = record.get(name, 0)
    try:
        number = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or number < 0 or (isinstance(value, float) and not value.is_integer()):
        raise RecordError(f"'{name}' must be a whole number >= 0, got {_short(value)}")
    if number > MAX_COUNT:
        raise RecordError(f"'{name}' is too large to be a count: {_short(value)}")
    return number


def _short(value: object, limit: int = 40) -> str:
    """A value's repr, cut short for an error line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    """Flatten an export record's lists and dicts for a CSV cell, with formulas defused."""
    return {
        k: defuse_formula(
            json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) and k != "tags" else
            (",".join(v) if k == "tags" else v)
        )
        for k, v in record.items()
    }  # fmt: skip


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value):
    """Text a spreadsheet shows as text: a leading ' before a formula start.

    Text that already starts with ' and then a formula start gets a second ',
    so `restore_formula` gives back exactly what was exported.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) or _is_defused(value):
        return "'" + value
    return value


def restore_formula(value: str) -> str:
    """The text that `defuse_formula` was given (for re-importing an exported CSV)."""
    return value[1:] if _is_defused(value) else value


def _is_defused(value) -> bool:
    """Whether text is ' followed by a formula start or by another defused text."""
    return isinstance(value, str) and value.startswith("'") and (
        value[1:].startswith(FORMULA_START) or value[1:].startswith("'") and _is_defused(value[1:])
    )
