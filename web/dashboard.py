"""The reputation dashboard: charts with their tables, CSV and HTML report downloads, and the spike alerts banner and list."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, g, render_template, request, stream_with_context, url_for

import clock
import store
from classifier.urgency import INTENT_CUES
from reputation import exports, outcome_metrics, overview, report, themes
from reputation.filters import FilterError, Filters, from_request
from reputation.report import bucket_label, minutes_label
from web.auth import editor_required
from web.db import connector, get_db
from web.views import done, settings

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
QUICK_RANGES = (("Today", 1), ("7 days", 7), ("30 days", 30), ("90 days", 90))
FIX_THEMES = tuple(name for name in INTENT_CUES if name != "question")


def current_filters() -> tuple[Filters, str | None]:
    """The view's filters from the query string, or the defaults and the reason they were refused."""
    known = overview.known_platforms(get_db())
    try:
        return from_request(request.args, settings(), known), None
    except FilterError as exc:
        return from_request({}, settings(), known), str(exc)


def chart_data(data: dict) -> dict:
    """What dashboard.js draws: labels and series only (the tables are in the page)."""
    filters: Filters = data["filters"]
    rows, sov = data["volume"]["rows"], data["volume"]["share_of_voice"]
    agents = data["responses"]["agents"]
    return {
        "labels": [bucket_label(r["start"], filters.bucket) for r in rows],
        "volume": {s: [r[s] for r in rows] for s in ("negative", "neutral", "positive", "unscored")},
        "net": [r["net"] for r in rows],
        "sov": {"labels": [s["brand"] for s in sov], "values": [s["mentions"] for s in sov],
                "competitor": [s["competitor"] for s in sov]},
        "themes": {"labels": [t["intent"].replace("_", " ") for t in data["themes"]["intents"]],
                   "values": [t["mentions"] for t in data["themes"]["intents"]]},
        "agents": {"labels": [a["name"] for a in agents], "median": [a["median_minutes"] for a in agents],
                   "p90": [a["p90_minutes"] for a in agents]},
        "sla": data["responses"]["sla_minutes"],
    }  # fmt: skip


@bp.get("/")
def index():
    """The dashboard for the chosen range, brand and platform."""
    filters, error = current_filters()
    data = overview.build(get_db(), settings(), filters, connector())
    page = render_template(
        "dashboard/index.html", data=data, filters=filters, args=filters.query_args(), error=error,
        charts=chart_data(data), platforms=overview.known_platforms(get_db()), quick=quick_ranges(),
        minutes=minutes_label, sections=exports.SECTIONS,
        outcome_labels=outcome_metrics.LABELS, outcome_groups=outcome_metrics.GROUPS,
        fix_themes=FIX_THEMES, fix_days=themes.FIX_DAYS,
    )  # fmt: skip
    return page, 400 if error else 200


def quick_ranges() -> list[tuple[str, dict]]:
    """Links for today and the last 7, 30 and 90 days, keeping the brand and platform."""
    today = clock.now().date()
    keep = {k: request.args[k] for k in ("brand", "platform") if request.args.get(k)}
    return [(name, {**keep, "from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()})
            for name, days in QUICK_RANGES]  # fmt: skip


def _csv(body, filename: str) -> Response:
    """A CSV download."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, mimetype="text/csv", headers=headers)


@bp.get("/metrics.csv")
@bp.get("/metrics/<section>.csv")
def metrics_csv(section: str | None = None):
    """Every metric (long format), or one section, for the current filters."""
    if section is not None and section not in exports.SECTIONS:
        abort(404)
    filters, error = current_filters()
    if error:
        abort(400, description=error)
    data = overview.build(get_db(), settings(), filters, connector())
    body = exports.section_csv(data, section) if section else exports.all_metrics_csv(data)
    return _csv(body, f"earshot-{section or 'metrics'}-{filters.query_args()['from']}.csv")


@bp.get("/mentions.csv")
def mentions_csv():
    """The mentions behind the dashboard, with its filters applied, oldest first (streamed)."""
    filters, error = current_filters()
    if error:
        abort(400, description=error)
    brands, platforms = filters.brands(settings()), filters.platforms(overview.known_platforms(get_db()))

    def generate():
        # The connection is fetched while streaming: the view's own is closed when it returns.
        rows = store.reputation_mentions(get_db(), filters.start_iso, filters.end_iso, brands, platforms)
        yield from exports.stream_rows(store.REPUTATION_EXPORT_COLUMNS, rows)

    return _csv(stream_with_context(generate()), f"earshot-mentions-{filters.query_args()['from']}.csv")


@bp.get("/report.html")
def report_html():
    """The standalone HTML report of `app.py report`, for the range, brand and platform on screen, as a download."""
    filters, error = current_filters()
    if error:
        abort(400, description=error)
    html = report.render(get_db(), settings(), filters)
    headers = {"Content-Disposition": f'attachment; filename="{report.filename(filters)}"'}
    return Response(html, mimetype="text/html", headers=headers)


@bp.post("/fixes")
@editor_required
def add_fix():
    """Record a fix against a complaint theme (the Outcomes section then shows before and after)."""
    form = request.form
    brand, theme, note = form.get("brand", ""), form.get("theme", ""), form.get("note", "").strip()[:200]
    back = url_for(".index", **{k: v for k, v in request.args.items() if k in ("from", "to", "brand", "platform")},
                   _anchor="improvements")  # fmt: skip
    try:
        day = date.fromisoformat(form.get("fixed_on", ""))
    except ValueError:
        return done("Give the fix's date as YYYY-MM-DD.", back, "error")
    if brand not in [b.name for b in settings().brands] or theme not in FIX_THEMES or not note:
        return done("A fix needs one of our brands, a theme and what changed.", back, "error")
    store.add_fix(get_db(), brand, theme, note, day.isoformat(), g.user["username"])
    return done(f"Fix “{note}” recorded against {theme.replace('_', ' ')}.", back, "success")


@bp.get("/alerts")
def alerts():
    """Recent spike alerts, their reasons and how their deliveries went."""
    rows = store.list_alerts(get_db(), 100)
    return render_template("dashboard/alerts.html", alerts=rows)


@bp.post("/alerts/<int:alert_id>/dismiss")
@editor_required
def dismiss(alert_id: int):
    """Take an alert out of everyone's banner."""
    if store.get_alert(get_db(), alert_id) is None:
        abort(404)
    store.dismiss_alert(get_db(), alert_id, g.user["username"])
    return done("Alert dismissed.", url_for("dashboard.alerts"))


def alert_banners() -> list[dict]:
    """Undismissed alerts from the last banner_hours, for the top of every page."""
    since = store.utc_text(clock.now() - timedelta(hours=settings().alerts.banner_hours))
    return [
        {"text": f"Spike alert for {a['brand']}: {a['reason']}", "level": "alert",
         "url": url_for("dashboard.alerts", _anchor=f"alert-{a['id']}"), "link": "Details"}
        for a in store.active_alerts(get_db(), since)
    ]  # fmt: skip
