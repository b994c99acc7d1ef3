"""The public CSAT survey behind a reply's link: no login, one 1-5 rating and an optional comment.

The link carries the reply's idempotency key, signed with the console's secret key and
stamped with the time it was issued, so it is unique per reply, cannot be forged and
expires after ``[outcomes] survey_days``. A reply's survey takes one answer; submissions
are capped per address per hour. What people type is stored as typed and escaped
wherever it is shown (the page, the mention page, the CSV).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

import clock
import store
from web.db import get_db
from web.views import settings

bp = Blueprint("survey", __name__, url_prefix="/s")
SALT = "earshot.survey"
MAX_COMMENT = 1000
PUBLIC_ENDPOINTS = ("survey.form", "survey.submit")


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads Earshot's clock, so tests and demos can move time."""

    def get_timestamp(self) -> int:
        """Now, in seconds since the epoch."""
        return int(clock.now().timestamp())


def _signer() -> _ClockSigner:
    """The signer keyed by the console's secret key."""
    return _ClockSigner(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(key: str) -> str:
    """A signed, timestamped survey token for the reply posted under idempotency key ``key``."""
    return _signer().sign(key).decode()


def link_for(key: str) -> str:
    """The public survey link for a reply's idempotency key."""
    path = url_for("survey.form", token=token_for(key))
    base = settings().outcomes.public_url.rstrip("/")
    return base + path if base else request.host_url.rstrip("/") + path


def _reply_for(token: str) -> dict:
    """The public reply a token names; abort with a page saying why when it is forged, expired or unknown."""
    try:
        key = _signer().unsign(token, max_age=settings().outcomes.survey_days * 86400).decode()
    except SignatureExpired:
        abort(410, description="This survey link has expired. Thank you for your time all the same.")
    except BadSignature:
        abort(404, description="This survey link is not valid.")
    reply = store.get_reply_by_key(get_db(), key)
    if reply is None or reply["status"] not in store.PUBLIC_REPLY_STATUSES:
        abort(404, description="This survey link is not valid.")
    return reply


def _page(reply: dict, token: str, status: int = 200, problem: str | None = None, comment: str = ""):
    """The survey page: the form, or the thank-you once answered."""
    answered = store.csat_for_reply(get_db(), reply["id"])
    return render_template("survey/form.html", token=token, answered=answered, problem=problem,
                           comment=comment, max_comment=MAX_COMMENT), status  # fmt: skip


@bp.get("/<token>")
def form(token: str):
    """Show the survey (or say it has been answered)."""
    return _page(_reply_for(token), token)


def _limited() -> bool:
    """Whether this address has used up its survey submissions for the hour (and count this one)."""
    db, address = get_db(), request.remote_addr or "unknown"
    since = store.utc_text(clock.now() - timedelta(hours=1))
    if store.survey_hits_since(db, address, since) >= settings().outcomes.survey_posts_per_hour:
        return True
    store.record_survey_hit(db, address)
    return False


def clean_comment(text: str) -> str:
    """A comment without control characters (newlines kept), trimmed to MAX_COMMENT."""
    kept = "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))
    return kept.strip()[:MAX_COMMENT]


@bp.post("/<token>")
def submit(token: str):
    """Record one rating for the reply; refuse a second, a bad rating and a flood."""
    if _limited():
        abort(429, description="Too many survey answers from your address; try again in an hour.")
    reply = _reply_for(token)
    rating, comment = request.form.get("rating", ""), clean_comment(request.form.get("comment", ""))
    if rating not in ("1", "2", "3", "4", "5"):
        return _page(reply, token, 422, "Choose a rating from 1 to 5.", comment)
    try:
        store.record_csat(get_db(), reply["id"], reply["mention_id"], int(rating), comment or None)
    except store.SurveyVoted:
        return _page(reply, token, 409, "This survey has already been answered; only one answer counts.")
    return redirect(url_for(".form", token=token))
