"""Bulk import and export of mentions in Earshot's file format."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import click

import formats
import store
from settings import Settings


@dataclass
class ImportResult:
    """What one import did."""

    new: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, path: str) -> str:
        """One line for the end of an import."""
        total = self.new + self.updated
        rate = total / self.seconds if self.seconds else 0
        return (
            f"Imported {total} mentions from {path}: {self.new} new, {self.updated} updated, "
            f"{self.skipped} skipped ({self.seconds:.1f} s, {rate:,.0f}/s)."
        )


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
    batch: list[dict] = []
    with click.progressbar(length=_count_lines(Path(path)), label="Importing", file=sys.stderr) as bar:
        last_line = 0
        for lineno, record in formats.read_records(path, fmt):
            bar.update(lineno - last_line)
            last_line = lineno
            row = _validate(record, settings, brand, f"{path}:{lineno}", result)
            if row is not None:
                batch.append(row)
            if len(batch) >= batch_size:
                _write(db, batch, result)
        _write(db, batch, result)
    result.seconds = time.monotonic() - started
    return result


def _validate(record, settings: Settings, brand: str | None, where: str, result: ImportResult) -> dict | None:
    """A store row for one record, or None after reporting why it was skipped."""
    try:
        if isinstance(record, formats.RecordError):
            raise record
        return formats.to_mention(record, settings, default_brand=brand)
    except formats.RecordError as exc:
        result.skipped += 1
        message = f"{where}: {exc}"
        result.errors.append(message)
        click.echo(f"\n{message}", err=True)
        return None


def _write(db, batch: list[dict], result: ImportResult) -> None:
    """Upsert one batch in a single transaction, then empty it."""
    if not batch:
        return
    with db.atomic():
        new, updated = store.upsert_mentions(db, batch)
    result.new += new
    result.updated += updated
    batch.clear()


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
