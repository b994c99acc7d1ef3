"""What a dashboard view or report covers: a UTC time range, one brand or all, one platform or all."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import clock
import store
from settings import Settings

DEFAULT_DAYS = 7
MAX_DAYS = 366
MAX_HOURLY_DAYS = 14
AUTO_HOURLY_DAYS = 2
BUCKETS = ("day", "hour")
_SPAN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_SPAN_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class FilterError(ValueError):
    """A filter value could not be understood; the message says which one and why."""


@dataclass(frozen=True)
class Filters:
    """A half-open UTC range [start, end), an optional brand and platform, and the bucket size."""

    start: datetime
    end: datetime
    brand: str | None = None
    platform: str | None = None
    bucket: str = "day"

    @property
    def start_iso(self) -> str:
        """The start as stored text."""
        return store.utc_text(self.start)

    @property
    def end_iso(self) -> str:
        """The end as stored text."""
        return store.utc_text(self.end)

    @property
    def days(self) -> float:
        """The range's length in days."""
        return (self.end - self.start).total_seconds() / 86400

    def brands(self, settings: Settings) -> list[str]:
        """The brands the view is about: the chosen one, or every configured brand."""
        return [self.brand] if self.brand else [b.name for b in settings.brands]

    def own_brands(self, settings: Settings) -> list[str]:
        """The chosen brands that are ours (competitors are never answered)."""
        chosen = set(self.brands(settings))
        return [b.name for b in settings.brands if b.name in chosen and not b.competitor]

    def platforms(self, known: list[str]) -> list[str]:
        """The platforms the view is about: the chosen one, or every platform in the database."""
        return [self.platform] if self.platform else list(known)

    def query_args(self) -> dict[str, str]:
        """URL parameters that reproduce this view (the `to` date is inclusive)."""
        last_day = (self.end - timedelta(microseconds=1)).date()
        return {"from": self.start.date().isoformat(), "to": last_day.isoformat(), "brand": self.brand or "",
                "platform": self.platform or "", "bucket": self.bucket}  # fmt: skip

    def describe(self) -> str:
        """A one-line summary for headings and file names' readers."""
        what = self.brand or "All brands"
        where = f" on {self.platform}" if self.platform else ""
        return f"{what}{where}, {short(self.start)} to {short(self.end)} UTC"




def short(moment: datetime) -> str:
    """A datetime as 'YYYY-MM-DD HH:MM'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")




def from_request(args: Mapping[str, str], settings: Settings, known_platforms: list[str],
                 today: date | None = None) -> Filters:  # fmt: skip
    """Filters from the dashboard's query string; defaults to the last seven days, all brands."""
    today = today or clock.now().date()
    last = _date(args.get("to"), "to") or today
    first = _date(args.get("from"), "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise FilterError(f"'from' ({first}) is after 'to' ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise FilterError(f"the range is longer than {MAX_DAYS} days")
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return Filters(start, end, _brand(args.get("brand"), settings), _platform(args.get("platform"), known_platforms),
                   _bucket(args.get("bucket"), end - start))  # fmt: skip


def for_since(since: str, settings: Settings, now: datetime | None = None, brand: str | None = None,
              platform: str | None = None) -> Filters:  # fmt: skip
    """Filters for the last `since` (e.g. '7d', '24h', '2w') up to now, as the report uses."""
    end = (now or clock.now()).replace(microsecond=0)
    span = parse_span(since)
    return Filters(end - span, end, _brand(brand, settings), platform or None, _bucket("", span))


def parse_span(text: str) -> timedelta:
    """A span like '7d', '24h' or '2w' as a timedelta."""
    found = _SPAN.match(text or "")
    if not found or int(found.group(1)) == 0:
        raise FilterError(f"cannot read {text!r} as a span: use a number and h, d or w, e.g. 7d")
    span = int(found.group(1)) * _SPAN_UNITS[found.group(2).lower()]
    if span > timedelta(days=MAX_DAYS):
        raise FilterError(f"{text!r} is longer than {MAX_DAYS} days")
    return span


def buckets(filters: Filters) -> list[tuple[str, str]]:
    """Consecutive [start, end) buckets on calendar hours or days, clipped to the range."""
    step = timedelta(hours=1) if filters.bucket == "hour" else timedelta(days=1)
    edge = filters.start.replace(minute=0, second=0, microsecond=0)
    if filters.bucket == "day":
        edge = edge.replace(hour=0)
    edges = [filters.start]
    while (edge := edge + step) < filters.end:
        edges.append(edge)
    edges.append(filters.end)
    return [(store.utc_text(a), store.utc_text(b)) for a, b in zip(edges, edges[1:], strict=False)]


def _date(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD parameter, or None when absent."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"'{name}' must be a date like 2026-11-22, not {value!r}") from None


def _brand(value: str | None, settings: Settings) -> str | None:
    """A configured brand's exact name, or None for all brands."""
    if not value:
        return None
    for brand in settings.brands:
        if brand.name.lower() == value.strip().lower():
            return brand.name
    raise FilterError(f"no brand named {value!r} is configured")


def _platform(value: str | None, known: list[str]) -> str | None:
    """A platform present in the database, or None for all platforms."""
    if not value:
        return None
    if value not in known:
        raise FilterError(f"no mentions from a platform named {value!r}")
    return value


def _bucket(value: str | None, span: timedelta) -> str:
    """'hour' or 'day'; automatic (hourly up to two days) when not given."""
    if not value:
        return "hour" if span <= timedelta(days=AUTO_HOURLY_DAYS) else "day"
    if value not in BUCKETS:
        raise FilterError(f"'bucket' must be day or hour, not {value!r}")
    if value == "hour" and span > timedelta(days=MAX_HOURLY_DAYS):
        raise FilterError(f"hourly buckets need a range of at most {MAX_HOURLY_DAYS} days")
    return value
