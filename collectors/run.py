"""One collection run: each enabled source once, under a lock, recorded in collector_runs."""

from __future__ import annotations

import fcntl
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import clock
import store
from background import classify_pending
from collectors.base import (
    Collector,
    CollectorError,
    CredentialsError,
    PlatformError,
    RateLimited,
    SourceDisabled,
    iso,
)
from collectors.registry import collector_for, default_sources
from collectors.sweep import Tally, collect_query
from reputation import outcomes
from settings import Settings

log = logging.getLogger("earshot.collectors")

Echo = Callable[[str], None]


class CollectionLocked(Exception):
    """Another collection run holds the lock on this database."""


@dataclass
class SourceResult:
    """How one source's run went, for the summary line and the exit status."""

    source: str
    status: str  # ok, rate_limited, error, skipped
    tally: Tally = field(default_factory=Tally)
    seconds: float = 0.0
    remaining: int | None = None
    reset: datetime | None = None
    errors: list[str] = field(default_factory=list)
    reason: str = ""  # why a source was skipped

    @property
    def succeeded(self) -> bool:
        """Whether this source did what was asked of it."""
        return self.status == "ok"

    def summary(self) -> str:
        """One line: status, new, updated, pages, rate-limit state and duration."""
        if self.status == "skipped":
            return f"{self.source}: skipped ({self.reason})"
        counts = f"{self.tally.new} new, {self.tally.updated} updated, {self.tally.pages} pages"
        line = f"{self.source}: {self.status.replace('_', ' ')}: {counts}, {self._rate()}, {self.seconds:.1f}s"
        return line + (f"; {'; '.join(self.errors)}" if self.errors else "")

    def _rate(self) -> str:
        """The rate-limit part of the summary."""
        if self.status == "rate_limited" and self.reset:
            return f"rate limited until {self.reset:%H:%M:%S} UTC (the next run waits)"
        if self.remaining is None:
            return "rate limit not reported"
        reset = f", resets {self.reset:%H:%M:%S} UTC" if self.reset else ""
        return f"{self.remaining} requests left{reset}"


@contextmanager
def collect_lock(db_path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the database; raise CollectionLocked if another run has it."""
    path = Path(str(db_path) + ".collect.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise CollectionLocked(
                f"another collection run (pid {holder}) is using {db_path}; not starting a second one"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_lock(db, settings: Settings, sources: list[str]):
    """What keeps two runs of a source apart: an advisory lock per source on PostgreSQL (any machine), else the file lock."""
    if db.dialect != "postgresql":
        return collect_lock(settings.db_path)
    return _source_locks(db, sources)


@contextmanager
def _source_locks(db, sources: list[str]) -> Iterator[None]:
    """Hold each source's advisory lock; raise CollectionLocked naming a source another run is collecting."""
    from store import postgres

    try:
        with postgres.advisory_locks(db, [f"earshot.collect.{name}" for name in sources]):
            yield
    except postgres.LockHeld as exc:
        source = str(exc).rsplit(".", 1)[-1]
        raise CollectionLocked(f"another collection run is collecting {source} from this database; not starting a second one") from None


def collect(settings: Settings, sources: list[str] | None = None, echo: Echo = log.info, classify: bool = True) -> list[SourceResult]:
    """Run each requested source once under the lock; classify what arrived; return the results."""
    db = store.connect(settings.database)
    try:
        names = sources or default_sources(settings)
        with run_lock(db, settings, names):
            results = []
            for name in names:
                results.append(collect_source(db, settings, name))
                echo(results[-1].summary())
            store.catch_up_search(db)  # PostgreSQL: make what arrived searchable through the index
            if classify and sum(r.tally.new for r in results):
                classify_pending(db, settings, echo)
            outcomes.refresh(db, settings)  # follow-ups that arrived decide how answered mentions turned out
    finally:
        db.close()
    return results


def collect_source(db, settings: Settings, name: str, collector: Collector | None = None) -> SourceResult:
    """Run one source: skip it if disabled or waiting for a reset, else fetch every query.

    Call it holding the collect lock: runs the source left 'running' are closed first.
    """
    store.close_interrupted_runs(db, name)
    try:
        collector = collector or collector_for(settings, name)
    except SourceDisabled as exc:
        store.record_skipped_run(db, name, str(exc))
        return SourceResult(name, "skipped", reason=str(exc))
    except CredentialsError as exc:
        return _failed_to_start(db, name, str(exc))
    waiting = _waiting_until(db, name)
    if waiting:
        reason = f"waiting for the rate limit to reset at {waiting:%H:%M:%S} UTC"
        store.record_skipped_run(db, name, reason, rate_limit_reset=iso(waiting))
        return SourceResult(name, "skipped", reason=reason, reset=waiting)
    run_id = store.start_collector_run(db, name)
    started = time.monotonic()
    try:
        result = _run_queries(db, settings, collector, run_id)
    except BaseException as exc:  # a crash, Ctrl-C or SystemExit: finish the run, then let it go on
        _close_ended_run(db, run_id, exc)
        raise
    result.seconds = time.monotonic() - started
    # new, updated and pages are already in the row: each page counted itself as it was stored.
    store.finish_collector_run(
        db, run_id, status=result.status, rate_limit_remaining=result.remaining,
        rate_limit_reset=iso(result.reset) if result.status == "rate_limited" else None,
        error="; ".join(result.errors) or None,
    )  # fmt: skip
    return result


def _close_ended_run(db, run_id: int, exc: BaseException) -> None:
    """Record a run that an exception ended as an error; the counts its pages wrote stay."""
    what = "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "crashed"
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    try:
        store.finish_collector_run(db, run_id, status="error", error=f"{what} before it finished ({detail})"[:500])
    except (sqlite3.Error, store.StoreError) as db_exc:
        log.warning("could not record the end of collector run %s (%s); the next run closes it", run_id, db_exc)


def _run_queries(db, settings: Settings, collector, run_id: int | None = None) -> SourceResult:
    """Every query of a collector within its page budget, each failing alone; a rate limit stops the source."""
    result = SourceResult(collector.source, "ok")
    budget = getattr(settings.sources, collector.source).page_budget
    try:
        for problem in collector.prepare(db):
            log.warning("%s: %s", collector.source, problem)
            result.status, result.errors = "error", [*result.errors, problem]
        for query in collector.queries():
            tally = Tally(run_id=run_id)
            try:
                collect_query(db, collector, query, budget, tally)
            except PlatformError as exc:
                log.warning("%s %s: %s", collector.source, query.key, exc)
                result.status, result.errors = "error", [*result.errors, f"{query.key}: {exc}"]
            finally:
                result.tally.add(tally)  # pages saved before a failure still count
    except RateLimited as exc:
        result.status, result.reset = "rate_limited", exc.retry_at
        result.errors.append(str(exc))
    except CollectorError as exc:  # credentials rejected: every query would fail the same way
        result.status = "error"
        result.errors.append(str(exc))
    state = collector.rate_state()
    result.remaining = state.remaining
    result.reset = result.reset or state.reset
    return result


def _failed_to_start(db, name: str, message: str) -> SourceResult:
    """Record a source whose credentials are present but unusable."""
    run_id = store.start_collector_run(db, name)
    store.finish_collector_run(db, run_id, status="error", error=message)
    return SourceResult(name, "error", errors=[message])


def _waiting_until(db, name: str) -> datetime | None:
    """The reset time the source must wait for, if its last run was rate limited."""
    last = store.last_attempted_run(db, name)
    if not last or last["status"] != "rate_limited" or not last["rate_limit_reset"]:
        return None
    reset = store.parse_utc(last["rate_limit_reset"])
    return reset if reset > clock.now() else None


def collect_command(settings: Settings, source: str | None, every: float | None, echo: Echo, classify: bool = True) -> bool:
    """`app.py collect`: one run (or one every ``every`` seconds); True when every source succeeded."""
    sources = [source] if source else None
    if not every:
        results = collect(settings, sources, echo, classify)
        return _succeeded(results, explicit=bool(source))
    ok = True
    while True:
        try:
            ok = _succeeded(collect(settings, sources, echo, classify), explicit=bool(source))
        except CollectionLocked as exc:
            echo(str(exc))
        try:
            time.sleep(jittered(every))
        except KeyboardInterrupt:
            return ok


def _succeeded(results: list[SourceResult], explicit: bool) -> bool:
    """All sources ok; a source skipped for lack of credentials fails only when asked for by name."""
    for result in results:
        if result.status in ("error", "rate_limited"):
            return False
        if result.status == "skipped" and (explicit or result.reset):
            return False
    return True


def jittered(seconds: float) -> float:
    """The interval with up to 10% random jitter either way, so runs don't align with others'."""
    return max(1.0, seconds * random.uniform(0.9, 1.1))
