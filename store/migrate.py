"""Moving a SQLite database to PostgreSQL: copy each table in rowid order, resumably, then check.

Each batch is written with COPY together with its table's high-water mark (the
last source rowid copied) in one target transaction, so a run that is stopped
at any point continues where it left off and never copies a row twice. At the
end every table's row count and a sample of rows are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .common import StoreError
from .db import connect
from .mentions import catch_up_search
from .postgres import PostgresDatabase, connect_postgres, safe_url

DATA_TABLES = ("mentions", "users", "audit_log")  # a target holding any of these is not empty
# Tables the target's triggers fill from the mentions copied into it.
DERIVED_TABLES = {"complaint_starts"}
SAMPLE_ROWS = 200  # rows per table compared field by field at the end
PROGRESS_SQL = (
    "CREATE TABLE IF NOT EXISTS _migrate_progress (source TEXT NOT NULL, name TEXT NOT NULL, "
    "last_rowid BIGINT NOT NULL, copied BIGINT NOT NULL, PRIMARY KEY (source, name))"
)


@dataclass
class MigrationReport:
    """What a migrate-db run copied and found when it checked."""

    copied: dict[str, int] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every count matched and every sampled row was equal."""
        return not self.problems

    def summary(self) -> str:
        """Lines for the operator: rows per table, then the check's verdict."""
        lines = [f"  {name}: {source} rows, {target} in PostgreSQL" for name, (source, target) in self.counts.items()]
        verdict = "Check passed: counts and sampled rows match." if self.ok else "Check FAILED:\n  " + "\n  ".join(self.problems)
        return "\n".join([*lines, verdict])


def migrate_database(source_path: str | Path, url: str, batch_size: int = 5000,
                     echo: Callable[[str], None] = print, progressbar=None) -> MigrationReport:  # fmt: skip
    """Copy the SQLite database at `source_path` into the PostgreSQL database at `url`, then check it."""
    source_path = Path(source_path)
    if not source_path.exists():
        raise StoreError(f"no SQLite database at {source_path}")
    source = connect(source_path)  # brings the source's schema up to date first
    target = connect_postgres(url)
    try:
        key = str(source_path.resolve())
        tables = copy_order(target, shared_tables(source, target))
        _refuse_foreign_data(target, key, tables)
        report = MigrationReport()
        echo(f"Copying {source_path} to {safe_url(url)}")
        for name in tables:
            report.copied[name] = copy_table(source, target, key, name, batch_size, progressbar)
        _reset_identities(target, tables)
        echo("Indexing the copied mentions for search")
        catch_up_search(target)
        check(source, target, tables, report)
        return report
    finally:
        source.close()
        target.close()


def shared_tables(source, target: PostgresDatabase) -> list[str]:
    """Tables of Earshot's schema present on both sides (not migration records, search index or derived tables)."""
    rows = source.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'")
    names = {r[0] for r in rows.fetchall()} - {"_migrations"} - DERIVED_TABLES
    names = {n for n in names if not n.startswith(("sqlite_", "mentions_fts"))}
    return sorted(names & set(target.table_names()))


def copy_order(target: PostgresDatabase, tables: list[str]) -> list[str]:
    """The tables ordered so that each comes after the tables its foreign keys point to."""
    edges = target.execute(
        "SELECT DISTINCT cl.relname, ref.relname FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
        "JOIN pg_class ref ON ref.oid = c.confrelid WHERE c.contype = 'f'"
    ).fetchall()
    needs = {name: {ref for child, ref in edges if child == name and ref != name} for name in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [n for n in tables if n not in ordered and needs[n] <= set(ordered) | (needs[n] - set(tables))]
        if not ready:
            raise StoreError(f"foreign keys form a cycle among {sorted(set(tables) - set(ordered))}")
        ordered += ready
    return ordered


def _refuse_foreign_data(target: PostgresDatabase, key: str, tables: list[str]) -> None:
    """On a first run, stop if the target holds real data; else empty what its migrations seeded.

    Rows a migration seeds (on both sides alike) are replaced by the source's copy.
    """
    target.execute(PROGRESS_SQL)
    if target.execute("SELECT count(*) FROM _migrate_progress WHERE source = ?", [key]).fetchone()[0]:
        return
    for name in (n for n in DATA_TABLES if n in tables):
        if target.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0]:
            raise StoreError(f"the target database already holds {name} rows; migrate-db copies into an empty database")
    with target.atomic():
        for name in reversed(tables):
            target.execute(f'DELETE FROM "{name}"')


def _columns(source, target: PostgresDatabase, name: str) -> list[str]:
    """Columns the table has on both sides, in the source's order."""
    theirs = {r[0] for r in target.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ?", [name]
    ).fetchall()}  # fmt: skip
    return [r[1] for r in source.execute(f"PRAGMA table_info([{name}])").fetchall() if r[1] in theirs]


def copy_table(source, target: PostgresDatabase, key: str, name: str, batch_size: int, progressbar=None) -> int:
    """Copy one table from its high-water mark on; return how many rows this run copied."""
    columns = _columns(source, target, name)
    mark, done = _progress(target, key, name)
    total = source.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0]
    quoted = ", ".join(f'"{c}"' for c in columns)
    select = f"SELECT rowid, {', '.join(f'[{c}]' for c in columns)} FROM [{name}] WHERE rowid > ? ORDER BY rowid LIMIT ?"
    copied = 0
    with _bar(progressbar, total, name) as bar:
        bar.update(min(done, total))
        while rows := source.conn.execute(select, [mark, batch_size]).fetchall():
            with target.atomic(), target.conn.raw.cursor() as cur:
                with cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row[1:])
                mark = rows[-1][0]
                target.execute("UPDATE _migrate_progress SET last_rowid = ?, copied = copied + ? "
                               "WHERE source = ? AND name = ?", [mark, len(rows), key, name])  # fmt: skip
            copied += len(rows)
            bar.update(len(rows))
    return copied


def _progress(target: PostgresDatabase, key: str, name: str) -> tuple[int, int]:
    """(last source rowid copied, rows copied) for a table, starting its record at (0, 0)."""
    target.execute("INSERT INTO _migrate_progress (source, name, last_rowid, copied) VALUES (?, ?, 0, 0) "
                   "ON CONFLICT (source, name) DO NOTHING", [key, name])  # fmt: skip
    row = target.execute("SELECT last_rowid, copied FROM _migrate_progress WHERE source = ? AND name = ?", [key, name])
    return tuple(row.fetchone())


class _NoBar:
    """A stand-in progress bar that shows nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        """Nothing to draw."""


def _bar(progressbar, total: int, name: str):
    """A progress bar for one table (click.progressbar's shape), or none."""
    return _NoBar() if progressbar is None else progressbar(length=max(total, 1), label=f"{name:>18}")


def _reset_identities(target: PostgresDatabase, tables: list[str]) -> None:
    """Move each identity sequence past the copied ids, so new rows get fresh ones."""
    for name in tables:
        if name in target.conn.identity_tables:
            target.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                           f'(SELECT coalesce(max(id), 0) + 1 FROM "{name}"), false)')  # fmt: skip


def check(source, target: PostgresDatabase, tables: list[str], report: MigrationReport) -> None:
    """Compare each table's row count, and a spread sample of its rows field by field."""
    for name in tables:
        counts = (source.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0],
                  target.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # fmt: skip
        report.counts[name] = counts
        if counts[0] != counts[1]:
            report.problems.append(f"{name}: {counts[0]} rows in SQLite but {counts[1]} in PostgreSQL")
        report.problems += _sample_differences(source, target, name, counts[0])


def _sample_differences(source, target: PostgresDatabase, name: str, total: int) -> list[str]:
    """Rows of a spread sample that differ between the two sides (looked up by primary key)."""
    columns = _columns(source, target, name)
    keys = [r[1] for r in sorted(source.execute(f"PRAGMA table_info([{name}])").fetchall(), key=lambda r: r[5]) if r[5]]
    if not keys or not total:
        return []
    step = max(total // SAMPLE_ROWS, 1)
    listed = ", ".join(f"[{c}]" for c in columns)
    sample = source.execute(f"SELECT {listed} FROM [{name}] WHERE rowid % ? = 0 LIMIT ?", [step, SAMPLE_ROWS])
    problems = []
    where = " AND ".join(f'"{k}" = ?' for k in keys)
    for row in sample.fetchall():
        values = dict(zip(columns, row, strict=True))
        theirs = target.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM \"{name}\" "
                                f"WHERE {where}", [values[k] for k in keys]).fetchone()  # fmt: skip
        if theirs is None or tuple(theirs) != tuple(row):
            problems.append(f"{name}: row {[values[k] for k in keys]} differs after the copy")
    return problems[:20]
