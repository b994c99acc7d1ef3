"""`app.py report` and the dashboard's download: one self-contained HTML file, charts as inline SVG, for people without a login."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

import jinja2

import clock
import store
from reputation import outcome_metrics, overview, svg
from reputation.filters import Filters
from settings import Settings

log = logging.getLogger("earshot.reputation")
TEMPLATES = Path(__file__).resolve().parent / "templates"


class ReportError(Exception):
    """The report could not be written; the message says where and why."""


def _environment() -> jinja2.Environment:
    """Jinja with autoescaping on, so every mention and brand name is escaped."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)  # fmt: skip
    env.filters["minutes"] = minutes_label
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:g}%"
    return env


def minutes_label(minutes: float | None) -> str:
    """Minutes as 45m, 3h 05m or 2d 4h ('—' for none)."""
    if minutes is None:
        return "—"
    whole = int(round(minutes))
    if whole < 60:
        return f"{whole}m"
    if whole < 1440:
        return f"{whole // 60}h {whole % 60:02d}m"
    return f"{whole // 1440}d {whole % 1440 // 60}h"


def bucket_label(start: str, bucket: str) -> str:
    """A short axis label: 'Nov 21' for days, 'Nov 21 14h' for hours."""
    moment = store.parse_utc(start)
    return moment.strftime("%b %d") if bucket == "day" else moment.strftime("%b %d %Hh")


def charts(data: dict) -> dict:
    """The report's SVG charts from an overview."""
    filters: Filters = data["filters"]
    rows = data["volume"]["rows"]
    labels = [bucket_label(r["start"], filters.bucket) for r in rows]
    sov = data["volume"]["share_of_voice"]
    return {
        "volume": svg.stacked_bars(rows, ("negative", "neutral", "positive", "unscored"), labels,
                                   "Mentions by " + filters.bucket + ", stacked by sentiment"),
        "net": svg.line(list(zip(labels, [r["net"] for r in rows], strict=True)), "Net sentiment"),
        "sov": svg.hbars([(s["brand"], s["share"] or 0, "#9aa3b2" if s["competitor"] else "#2f5bea") for s in sov],
                         "Share of voice, percent"),
    }  # fmt: skip


def alerts_in(db, filters: Filters, brands: list[str]) -> list[dict]:
    """Spike alerts for these brands whose window ended inside the range, newest first."""
    chosen = set(brands)
    return [a for a in store.list_alerts(db, 500)
            if a["brand"] in chosen and filters.start_iso <= a["window_end"] <= filters.end_iso]  # fmt: skip


def render(db, settings: Settings, filters: Filters, now: datetime | None = None) -> str:
    """The report as one HTML document."""
    data = overview.build(db, settings, filters)
    alerts = alerts_in(db, filters, filters.brands(settings))
    template = _environment().get_template("report.html")
    return template.render(data=data, charts=charts(data), filters=filters, alerts=alerts,
                           outcome_groups=outcome_metrics.GROUPS,
                           generated=store.utc_text(now or clock.now()), labels=[
                               bucket_label(r["start"], filters.bucket) for r in data["volume"]["rows"]])  # fmt: skip


def filename(filters: Filters) -> str:
    """A download name saying what the report covers, e.g. earshot-report-parcelo-x-2026-11-10-to-2026-11-16.html."""
    args = filters.query_args()
    narrowed = [_slug(value) for value in (filters.brand, filters.platform) if value]
    return "-".join(["earshot-report", *narrowed, args["from"], "to", args["to"]]) + ".html"


def _slug(text: str) -> str:
    """Lowercase letters and digits joined by hyphens, safe in a file name and a header."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def write(db, settings: Settings, filters: Filters, out: Path, now: datetime | None = None) -> int:
    """Render the report to `out`; return its size in bytes."""
    html = render(db, settings, filters, now)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
    log.info("Report written to %s", out)
    return len(html.encode("utf-8"))
