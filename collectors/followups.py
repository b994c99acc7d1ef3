"""Follow-ups: what customers post in answer to our replies, fetched as queries of the collectors.

A follow-up query lists our recent public replies on one network. Its cursor position is
``{"id": newest post seen, "upto": newest reply id the query covered}``: a reply added to the
query since (its id above ``upto``) lowers the next search's floor to that reply's id, so no
answer to it is missed, while answers to the replies already covered are fetched only once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import clock
import store
from collectors.base import Page, Query, is_digits

if TYPE_CHECKING:
    from settings import Settings


def recent_targets(db, settings: Settings, platform: str, most_days: int | None = None) -> list[dict]:
    """Our public replies on a platform within ``[outcomes] follow_days`` (at most ``most_days``), oldest first."""
    days = min(settings.outcomes.follow_days, most_days or settings.outcomes.follow_days)
    since = store.utc_text(clock.now() - timedelta(days=days))
    return [t for t in store.followup_targets(db, platform, since) if is_digits(t["external_id"])]


def queries(settings: Settings, targets: list[dict], chunk: int) -> list[Query]:
    """Follow-up queries per brand, ``chunk`` reply ids each (oldest replies in the first)."""
    found = []
    for brand in settings.brands:
        ids = [t["external_id"] for t in targets if t["brand"] == brand.name]
        for start in range(0, len(ids), chunk):
            found.append(
                Query("followups", f"followups:{start // chunk}", brand, {"ids": ids[start : start + chunk]})
            )
    return found


def since_for(since: Any, ids: list[str]) -> str:
    """The search floor: the stored position, lowered to any reply the query did not cover yet."""
    position, upto = (since.get("id"), since.get("upto")) if isinstance(since, dict) else (since, None)
    fresh = [int(i) for i in ids if upto is None or int(i) > int(upto)]
    floors = ([int(position)] if is_digits(position) else []) + ([min(fresh)] if fresh else [])
    return str(min(floors)) if floors else str(min(int(i) for i in ids))


def with_position(page: Page, ids: list[str]) -> Page:
    """A follow-up page whose newest marker also records the replies it covered."""
    if page.newest is not None:
        page.newest = {"id": page.newest, "upto": str(max(int(i) for i in ids))}
    return page
