"""The one place Earshot reads the time of day, so a test or a demo can set it.

Durations (timeouts, progress rates) still use `time.monotonic()`; anything that
is stored, compared with stored times or shown to a person comes from `now()`.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

ENV = "EARSHOT_NOW"  # start the clock at this UTC instant (ISO-8601), for tests and recorded demos

_start: datetime | None = None  # the instant the clock was set to
_set_at = 0.0  # time.monotonic() when it was set
_frozen = False


class ClockError(ValueError):
    """EARSHOT_NOW holds something that is not a time."""


def now() -> datetime:
    """The current time, aware and in UTC."""
    if _start is None:
        _from_environment()
    if _start is None:
        return datetime.now(UTC)
    if _frozen:
        return _start
    return _start + timedelta(seconds=time.monotonic() - _set_at)


def start_at(moment: datetime | str, frozen: bool = False) -> None:
    """Run the clock from this instant on (or hold it there when frozen)."""
    global _start, _set_at, _frozen
    _start = _parse(moment) if isinstance(moment, str) else moment.astimezone(UTC)
    _set_at = time.monotonic()
    _frozen = frozen


def reset() -> None:
    """Go back to the wall clock (EARSHOT_NOW is read again on the next `now()`)."""
    global _start, _frozen
    _start = None
    _frozen = False


def _from_environment() -> None:
    """Start from EARSHOT_NOW when it is set."""
    text = os.environ.get(ENV, "").strip()
    if text:
        start_at(text)


def _parse(text: str) -> datetime:
    """An ISO-8601 instant; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ClockError(f"{ENV}={text!r} is not an ISO-8601 time such as 2026-11-18T10:30:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
