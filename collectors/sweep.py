"""The cursor engine: page through a query newest-first and save each page with its cursor.

A cursor is JSON: ``{"since": position, "gaps": [{"since": position, "until": marker}]}``.
``since`` is the newest item stored (X's since_id; Reddit's created_utc and
fullname). A fresh sweep fetches everything above it. When a sweep stops before
reaching ``since`` (page budget spent, rate limit, a crash), the stretch it did
not reach is kept as a gap, and later runs fill gaps from where they stopped
(X's until_id; Reddit's ``after``). Rows and cursor are saved in one transaction
per page, so a run that dies refetches at most one page: no duplicates, no holes.
The run's counts in collector_runs are written in that same transaction, so even
a run killed with SIGKILL leaves a true record of what it stored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import store
from collectors.base import Collector, CursorExpired, Page, Query

log = logging.getLogger("earshot.collectors")

MAX_GAPS = 20


@dataclass
class Tally:
    """What one run of a query (or a whole source) stored.

    ``run_id`` names the collector_runs row that each saved page is also counted
    in, in the page's own transaction (None: counted here only).
    """

    new: int = 0
    updated: int = 0
    pages: int = 0
    run_id: int | None = None

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.new += other.new
        self.updated += other.updated
        self.pages += other.pages


def load_state(db, source: str, query: Query) -> dict:
    """A query's cursor state (empty for a first run or an unreadable cursor)."""
    value = store.get_cursor(db, source, query.brand_key, query.key)
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        log.warning("%s %s: unreadable cursor; starting again from the newest posts", source, query.key)
        state = {}
    if not isinstance(state, dict):
        state = {}
    return {"since": state.get("since"), "gaps": [g for g in state.get("gaps") or [] if isinstance(g, dict)]}


def collect_query(db, collector: Collector, query: Query, budget: int, tally: Tally | None = None) -> Tally:
    """Fetch a query's new items, then fill its gaps, within ``budget`` pages.

    Counts go into ``tally`` as each page is saved, so they survive an exception.
    """
    state = load_state(db, collector.source, query)
    tally = tally if tally is not None else Tally()
    try:
        _sweep(db, collector, query, state, None, budget, tally)
    except CursorExpired as exc:
        log.warning("%s %s: %s; starting again from the newest posts", collector.source, query.key, exc)
        state = {"since": None, "gaps": []}
        _sweep(db, collector, query, state, None, budget, tally)
    for gap in list(state["gaps"]):
        if tally.pages >= budget:
            break
        try:
            _sweep(db, collector, query, state, gap, budget, tally)
        except CursorExpired as exc:
            log.warning("%s %s: dropping an unreachable gap (%s)", collector.source, query.key, exc)
            _save(db, collector, query, state, Page([]), drop=gap, tally=None)
    return tally


def _sweep(db, collector: Collector, query: Query, state: dict, gap: dict | None, budget: int, tally: Tally) -> None:
    """Page down from the top (gap None) or from a gap's lower edge, saving each page."""
    since = state["since"] if gap is None else gap["since"]
    until = None if gap is None else gap["until"]
    token = None
    while tally.pages < budget:
        page = collector.fetch_page(query, since, until, token)
        if gap is None and page.newest is not None:
            # The fresh sweep's first page: everything between the old top and this page is now a gap.
            gap = {"since": state["since"], "until": page.oldest}
            state["gaps"].insert(0, gap)
            state["since"] = page.newest
        elif gap is not None and page.oldest is not None:
            gap["until"] = page.oldest
        done = page.next is None
        _save(db, collector, query, state, page, drop=gap if done else None, tally=tally)
        if done:
            return
        token = page.next


def _save(db, collector: Collector, query: Query, state: dict, page: Page, drop: dict | None, tally: Tally | None) -> None:
    """Store a page's rows, the cursor covering them and the run's counts in one transaction.

    ``tally`` None saves the cursor alone (a dropped gap), which counts as no page.
    """
    if drop is not None and drop in state["gaps"]:
        state["gaps"].remove(drop)
    if len(state["gaps"]) > MAX_GAPS:
        log.warning("%s %s: too many unfilled gaps; giving up the oldest", collector.source, query.key)
        del state["gaps"][MAX_GAPS:]
    with db.atomic():
        new, updated = store.upsert_mentions(db, page.mentions)
        store.set_cursor(db, collector.source, query.brand_key, query.key, json.dumps(state))
        if tally is not None and tally.run_id is not None:
            store.record_run_page(db, tally.run_id, new, updated)
    if tally is not None:
        tally.new, tally.updated, tally.pages = tally.new + new, tally.updated + updated, tally.pages + 1
