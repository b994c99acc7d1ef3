"""The inbox: mentions ranked by urgency, with filters, search, paging, polling and bulk actions."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, g, jsonify, render_template, request, url_for

import store
from web.auth import editor_required
from web.db import get_db
from web.views import done, parse_id, settings

bp = Blueprint("inbox", __name__)
FILTERS = ("brand", "platform", "sentiment", "status", "assignee", "language", "since", "until", "tag", "q", "outcome")
OUTCOME_CHOICES = (("second_reply", "Worth a second reply"), ("churn_risk", "Churn risk"),
                   ("still_unhappy", "Still unhappy"), ("escalated", "Escalated"), ("satisfied", "Satisfied"),
                   ("silent", "Silent"))  # fmt: skip
STATUS_CHOICES = ("active", *store.STATUSES, "all")
SENTIMENTS = ("negative", "neutral", "positive")
BULK_ACTIONS = ("resolve", "ignore", "open", "assign", "tag")
MAX_PAGE = 100_000


class FilterError(ValueError):
    """A filter value in the URL could not be understood."""


def _day(value: str, name: str) -> date | None:
    """Parse a YYYY-MM-DD filter value."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"'{name}' should be a date like 2024-05-31, not {value!r}") from None


def parse_filters(args) -> tuple[dict, dict]:
    """(form values to show, store filters) from the query string."""
    form = {name: args.get(name, "").strip() for name in FILTERS}
    form["status"] = form["status"] if form["status"] in STATUS_CHOICES else "active"
    form["sentiment"] = form["sentiment"] if form["sentiment"] in SENTIMENTS else ""
    form["outcome"] = form["outcome"] if form["outcome"] in store.OUTCOME_FILTERS else ""
    filters = {k: v for k, v in form.items() if v and k not in ("since", "until")}
    if form["assignee"] == "me":
        filters["assignee"] = g.user["username"]
    try:
        since, until = _day(form["since"], "from"), _day(form["until"], "to")
    except FilterError as exc:
        flash(str(exc), "error")
        form["since"] = form["until"] = ""
        return form, filters
    if since:
        filters["since"] = f"{since.isoformat()}T00:00:00Z"
    if until:
        filters["until"] = f"{(until + timedelta(days=1)).isoformat()}T00:00:00Z"
    return form, filters


def _positive_int(value: str | None, default: int) -> int:
    """A page number or id from the query string."""
    number = parse_id(value)
    return max(1, number) if number is not None else default


def filter_options(db) -> dict:
    """Choices for the filter bar's drop-downs."""
    return {
        "brands": [b.name for b in settings().brands],
        "platforms": store.distinct_values(db, "platform"),
        "languages": store.distinct_values(db, "language"),
        "tags": store.distinct_values(db, "tag"),
        "users": [u for u in store.list_users(db) if u["role"] != "viewer" and not u["disabled"]],
        "statuses": STATUS_CHOICES,
        "sentiments": SENTIMENTS,
        "orders": tuple(store.INBOX_ORDERS),
        "outcomes": OUTCOME_CHOICES,
    }


@bp.get("/")
def index():
    """The inbox page."""
    form, filters = parse_filters(request.args)
    order = request.args.get("order") if request.args.get("order") in store.INBOX_ORDERS else "urgency"
    page = min(_positive_int(request.args.get("page"), 1), MAX_PAGE)
    size = settings().console.page_size
    db = get_db()
    windowed = False
    if store.fts_match(filters.get("q")):
        rows, counts, windowed = store.search_inbox(db, filters, order, size + 1, (page - 1) * size)
        at_least = set(store.STATUSES) if windowed else set()
    else:
        rows = store.inbox_mentions(db, filters, order, size + 1, (page - 1) * size)
        counts, at_least = store.inbox_status_counts(db, filters)
    return render_template(
        "inbox/index.html",
        mentions=rows[:size], has_next=len(rows) > size, page=page, order=order, form=form, counts=counts,
        at_least=at_least, windowed=windowed, window=store.SEARCH_WINDOW,
        newest_id=store.newest_mention_id(db), options=filter_options(db),
    )  # fmt: skip


@bp.get("/inbox/new")
def new_mentions():
    """JSON for the live banner: mentions matching the filters that arrived after `since`."""
    _, filters = parse_filters(request.args)
    since = _positive_int(request.args.get("since"), 0)
    rows = store.mentions_since(get_db(), filters, since, limit=20)
    items = [
        {"id": r["id"], "author": r["author_handle"] or "", "brand": r["brand"], "platform": r["platform"],
         "text": r["text"][:200], "urgency": r["urgency"], "url": url_for("mention.view", mention_id=r["id"])}
        for r in rows
    ]  # fmt: skip
    newest = max([since, *(r["id"] for r in rows)])
    return jsonify(count=len(items), more=len(items) == 20, newest_id=newest, mentions=items)


@bp.post("/inbox/bulk")
@editor_required
def bulk():
    """Resolve, ignore, reopen, assign or tag the selected mentions."""
    ids = [i for i in map(parse_id, request.form.getlist("ids")) if i is not None]
    action = request.form.get("action", "")
    back = url_for("inbox.index")
    if not ids or action not in BULK_ACTIONS:
        return done("Select some mentions and an action first.", back, "error")
    db, actor = get_db(), g.user["username"]
    if action in ("resolve", "ignore", "open"):
        status = {"resolve": "resolved", "ignore": "ignored", "open": "open"}[action]
        count = store.set_status(db, ids, status, actor)
        return done(f"{count} mention(s) marked {status}.", back)
    if action == "assign":
        assignee = resolve_assignee(request.form.get("assignee", ""))
        count = store.assign(db, ids, assignee, actor)
        return done(f"{count} mention(s) assigned to {assignee or 'nobody'}.", back)
    tag = clean_tag(request.form.get("tag", ""))
    if not tag:
        return done("Type a tag to add.", back, "error")
    return done(f"{store.add_tag(db, ids, tag, actor)} mention(s) tagged {tag}.", back)


def resolve_assignee(value: str) -> str | None:
    """'me' is the current user, '' is nobody; anyone else must be a real user."""
    if value == "me":
        return g.user["username"]
    if not value:
        return None
    user = store.get_user(get_db(), value)
    if user is None or user["disabled"]:
        raise store.StoreError(f"no active user named {value!r}")
    return user["username"]


def clean_tag(value: str) -> str:
    """A tag as stored: trimmed, lower case, at most 40 characters."""
    return " ".join(value.split()).lower()[:40]


@bp.app_template_global()
def inbox_url(**changes) -> str:
    """The inbox URL with the current filters and changes applied ('' or None drops a key)."""
    args = request.args.to_dict() if request.endpoint == "inbox.index" else {}
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("inbox.index", **args)
