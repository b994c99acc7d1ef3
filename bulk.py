"""Bulk import and export of mentions in Earshot's file format."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import click

import formats
import store
from settings import Settings

log = logging.getLogger("earshot.bulk")


MAX_REPORTED_REPEATS = 20  # repeated ids listed one by one; the rest are only counted


@dataclass
class ImportResult:
    """What one import did."""

    new: int = 0
    updated: int = 0
    skipped: int = 0
    repeated: int = 0  # lines whose id an earlier line of the same file already had
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, path: str) -> str:
        """One line for the end of an import."""
        total = self.new + self.updated
        rate = total / self.seconds if self.seconds else 0
        repeats = (
            f", {self.repeated} repeated an earlier line's id (the later line wins)" if self.repeated else ""
        )
        return (
            f"Imported {total} mentions from {path}: {self.new} new, {self.updated} updated{repeats}, "
            f"{self.skipped} skipped ({self.seconds:.1f} s, {rate:,.0f}/s)."
        )


@dataclass
class _Batch:
    """Rows waiting to be written, with the file position each came from."""

    rows: list[dict] = field(default_factory=list)
    wheres: list[str] = field(default_factory=list)
    first_line: int = 0  # line of the first queued row (0: none queued)

    def add(self, row: dict, where: str, lineno: int) -> None:
        """Queue one row."""
        if not self.rows:
            self.first_line = lineno
        self.rows.append(row)
        self.wheres.append(where)

    def clear(self) -> None:
        """Forget the queued rows."""
        self.rows.clear()
        self.wheres.clear()
        self.first_line = 0


def _count_lines(path: Path) -> int:
    """Lines in a file, for the progress bar."""
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def import_file(
    db, settings: Settings, path: str, fmt: str | None = None, brand: str | None = None, batch_size: int = 2000
) -> ImportResult:
    """Validate and upsert every record of a file, reporting bad lines as FILE:LINE."""
    result = ImportResult()
    started = time.monotonic()
    batch = _Batch()
    seen: dict[int, int] = {}  # hash of (platform, id) -> the line that last had it
    restated = 0
    with click.progressbar(length=_count_lines(Path(path)), label="Importing", file=sys.stderr) as bar:
        last_line = 0
        for lineno, record in formats.read_records(path, fmt):
            bar.update(lineno - last_line)
            last_line = lineno
            row = _validate(record, settings, brand, f"{path}:{lineno}", result)
            if row is not None:
                earlier = _note_repeat(seen, row, path, lineno, result)
                # A repeat of a row written in an earlier batch is counted as an
                # update by the store; it is one mention, already counted.
                restated += earlier is not None and (not batch.rows or earlier < batch.first_line)
                batch.add(row, f"{path}:{lineno}", lineno)
            if len(batch.rows) >= batch_size:
                _write(db, batch, result)
        _write(db, batch, result)
    result.updated -= restated
    result.seconds = time.monotonic() - started
    return result


def _report(result: ImportResult, message: str) -> None:
    """Count one bad line and say which, on stderr."""
    result.skipped += 1
    result.errors.append(message)
    click.echo(f"\n{message}", err=True)


def _validate(record, settings: Settings, brand: str | None, where: str, result: ImportResult) -> dict | None:
    """A store row for one record, or None after reporting why it was skipped."""
    try:
        if isinstance(record, formats.RecordError):
            raise record
        return formats.to_mention(record, settings, default_brand=brand)
    except formats.RecordError as exc:
        _report(result, f"{where}: {exc}")
        return None


def _note_repeat(seen: dict[int, int], row: dict, path: str, lineno: int, result: ImportResult) -> int | None:
    """Count (and name the first few) lines whose id an earlier line of this file had; return that line."""
    key = hash((row["platform"], row["external_id"]))
    earlier = seen.get(key)
    seen[key] = lineno
    if earlier is None:
        return None
    result.repeated += 1
    if result.repeated <= MAX_REPORTED_REPEATS:
        click.echo(
            f"\n{path}:{lineno}: id {row['external_id']!r} repeats line {earlier}; this later line wins",
            err=True,
        )
    return earlier


def _write(db, batch: _Batch, result: ImportResult) -> None:
    """Upsert one batch in a single transaction, then empty it.

    If the batch as a whole is refused, each row is tried alone, so one row the
    database cannot hold is reported by its line and the others are kept.
    """
    if not batch.rows:
        return
    try:
        with db.atomic():
            new, updated = store.upsert_mentions(db, batch.rows)
    except (sqlite3.DatabaseError, ValueError, OverflowError) as exc:
        log.warning("batch of %d refused (%s); storing its rows one by one", len(batch.rows), exc)
        new, updated = _write_one_by_one(db, batch, result)
    result.new += new
    result.updated += updated
    batch.clear()


def _write_one_by_one(db, batch: _Batch, result: ImportResult) -> tuple[int, int]:
    """Upsert each row of a refused batch in its own savepoint; report the ones that fail."""
    new = updated = 0
    with db.atomic():
        for row, where in zip(batch.rows, batch.wheres, strict=True):
            try:
                with db.atomic():
                    added, refreshed = store.upsert_mentions(db, [row])
            except (sqlite3.DatabaseError, ValueError, OverflowError) as exc:
                _report(result, f"{where}: the database refused this record ({exc})")
                continue
            new, updated = new + added, updated + refreshed
    return new, updated


def export(db, out: TextIO, fmt: str) -> int:
    """Write mentions (jsonl or csv) or staff corrections to `out`; return the count."""
    if fmt == "corrections":
        rows = store.sentiment_corrections(db)
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return len(rows)
    writer = formats.write_csv_header(out) if fmt == "csv" else None
    count = 0
    for row in store.iter_mentions(db):
        record = formats.export_record(row)
        if writer:
            writer.writerow(formats.csv_row(record))
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
