"""A scoring worker: claim unscored mentions in batches, score them with the model, save, repeat.

Run any number of them (`python app.py worker`), on any number of machines, against
one PostgreSQL database: store.claimed_for_scoring hands each batch to one worker
only, and a batch whose worker dies goes back to the others (see store/scoring.py).
Between batches each worker also indexes queued mentions for search
(store.catch_up_search), which PostgreSQL keeps off the writers' transactions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import clock
import store
from settings import Settings

log = logging.getLogger(__name__)


@dataclass
class WorkerTally:
    """What one worker has done so far."""

    batches: int = 0
    scored: int = 0
    indexed: int = 0


def score_one_batch(db, settings: Settings, model, batch_size: int, lease_seconds: float) -> int:
    """Claim, score and save one batch; return how many mentions it saved (0 when the queue is empty)."""
    from classifier import pipeline

    with store.claimed_for_scoring(db, batch_size, lease_seconds) as rows:
        if not rows:
            return 0
        scored = pipeline.score_rows(model(), rows, settings, clock.now())
        return store.save_claimed_scores(db, [{"id": r["id"], **s} for r, s in zip(rows, scored, strict=True)])


def run_worker(settings: Settings, batch_size: int = 64, once: bool = False, idle_seconds: float = 5.0,
               lease_seconds: float = store.LEASE_SECONDS, echo: Callable[[str], None] = log.info) -> WorkerTally:  # fmt: skip
    """Score batches until the queue is empty (with `once`) or forever, waiting `idle_seconds` when idle."""
    db = store.connect(settings.database)
    tally = WorkerTally()
    model = _lazy_model(db, settings)
    try:
        while True:
            tally.indexed += store.catch_up_search(db, passes=1)
            saved = score_one_batch(db, settings, model, batch_size, lease_seconds)
            if saved:
                tally.batches, tally.scored = tally.batches + 1, tally.scored + saved
                echo(f"batch {tally.batches}: scored {saved} ({tally.scored} in all)")
                continue
            if once:
                tally.indexed += store.catch_up_search(db)
                return tally
            _refresh_waiting(db, settings)
            time.sleep(idle_seconds)
    finally:
        db.close()


def _lazy_model(db, settings: Settings) -> Callable:
    """The active sentiment model, loaded on the first batch that needs it (an idle worker loads nothing)."""
    loaded = []

    def model():
        if not loaded:
            from classifier import versions
            from classifier.model import get_model

            loaded.append(get_model(settings, versions.active_version(db, settings)))
        return loaded[0]

    return model


def _refresh_waiting(db, settings: Settings) -> None:
    """Move the urgency of mentions still waiting for an answer, while the queue is empty."""
    from classifier import pipeline

    pipeline.refresh_urgency(db, settings, clock.now())
