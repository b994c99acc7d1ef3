"""One mention: full text, author card, thread, urgency and sentiment, and the staff actions on it."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for

import collectors
import store
from reputation import outcome_metrics
from web.auth import editor_required
from web.db import get_db
from web.inbox import SENTIMENTS, clean_tag, resolve_assignee
from web.views import done, from_json, settings

bp = Blueprint("mention", __name__, url_prefix="/m")
MAX_NOTE = 5000


def get_mention_or_404(mention_id: int) -> dict:
    """The mention, or a 404 page."""
    mention = store.get_mention(get_db(), mention_id)
    if mention is None:
        abort(404, description=f"There is no mention {mention_id}.")
    return mention


SIGNAL_HELP = {
    "negativity": "how negative the sentiment model finds it (halved when it can't read the language)",
    "intent": "what it asks for: safety, fraud, outage, billing and so on, most serious first",
    "directness": "whether it replies to the brand or tags the brand's handle",
    "reach": "the author's followers, on a log scale",
    "engagement": "likes, reposts and replies, on a log scale",
    "waiting": "time without a first response, against the SLA target",
    "spam": "looks like promotion or spam (subtracted)",
}


def explain_urgency(parts, weights) -> list[dict]:
    """Urgency parts as rows of signal, points, the most it can earn, and what it means."""
    parts = from_json(parts) or {}
    if not isinstance(parts, dict):
        return []
    rows = []
    for name, points in parts.items():
        most = getattr(weights, "spam_penalty" if name == "spam" else name, None)
        rows.append({"signal": name, "points": points, "most": most, "why": SIGNAL_HELP.get(name, "")})
    return rows


def sentiment_scores(mention: dict) -> list[tuple[str, float]]:
    """The classifier's scores as (label, probability), in a fixed order."""
    scores = from_json(mention["sentiment_scores"]) or {}
    if not isinstance(scores, dict):
        return []
    return [(label, float(scores[label])) for label in SENTIMENTS if label in scores]


@bp.get("/<int:mention_id>")
def view(mention_id: int):
    """The mention page."""
    mention = get_mention_or_404(mention_id)
    db = get_db()
    return render_template(
        "mention/view.html",
        m=mention,
        author=store.get_author(db, mention["platform"], mention["author_id"]),
        history=store.customer_mentions(db, mention),
        our_replies=store.customer_replies(db, mention),
        returning=store.is_returning(db, mention),
        linked=[a for a in store.customer_accounts(db, mention) if a["customer_id"] is not None],
        networks=collectors.PLATFORMS,
        thread=store.thread_context(db, mention),
        tags=store.mention_tags(db, mention_id),
        notes=store.mention_notes(db, mention_id),
        corrections=store.mention_corrections(db, mention_id),
        audit=store.mention_audit(db, mention_id),
        replies=store.mention_replies(db, mention_id),
        claim=store.active_claim(db, mention_id),
        urgency=explain_urgency(mention["urgency_parts"], settings().urgency),
        intents=from_json(mention["intents"]) or [],
        scores=sentiment_scores(mention),
        users=[u for u in store.list_users(db) if u["role"] != "viewer" and not u["disabled"]],
        statuses=store.STATUSES,
        sentiments=SENTIMENTS,
        outcome=store.get_outcome(db, mention_id),
        followups=store.mention_followups(db, mention_id),
        csat=store.csat_for_mention(db, mention_id),
        outcome_labels=outcome_metrics.LABELS,
    )


def _back(mention_id: int) -> str:
    """The mention page URL, the default place to return to."""
    return url_for("mention.view", mention_id=mention_id)


@bp.post("/<int:mention_id>/status")
@editor_required
def set_status(mention_id: int):
    """Move the mention to a workflow status."""
    get_mention_or_404(mention_id)
    status = request.form.get("status", "")
    store.set_status(get_db(), [mention_id], status, g.user["username"])
    return done(f"Marked {status}.", _back(mention_id), status=status)


@bp.post("/<int:mention_id>/assign")
@editor_required
def assign(mention_id: int):
    """Assign the mention ('me', a username, or '' for nobody)."""
    get_mention_or_404(mention_id)
    assignee = resolve_assignee(request.form.get("assignee", ""))
    store.assign(get_db(), [mention_id], assignee, g.user["username"])
    return done(f"Assigned to {assignee or 'nobody'}.", _back(mention_id), assignee=assignee)


@bp.post("/<int:mention_id>/tags")
@editor_required
def add_tag(mention_id: int):
    """Add a tag."""
    get_mention_or_404(mention_id)
    tag = clean_tag(request.form.get("tag", ""))
    if not tag:
        return done("Type a tag to add.", _back(mention_id), "error")
    store.add_tag(get_db(), [mention_id], tag, g.user["username"])
    return done(f"Tagged {tag}.", _back(mention_id))


@bp.post("/<int:mention_id>/tags/remove")
@editor_required
def remove_tag(mention_id: int):
    """Remove a tag."""
    get_mention_or_404(mention_id)
    tag = request.form.get("tag", "")
    store.remove_tag(get_db(), mention_id, tag, g.user["username"])
    return done(f"Removed tag {tag}.", _back(mention_id))


@bp.post("/<int:mention_id>/notes")
@editor_required
def add_note(mention_id: int):
    """Add an internal note (never posted anywhere)."""
    get_mention_or_404(mention_id)
    body = request.form.get("body", "").strip()
    if not body or len(body) > MAX_NOTE:
        return done(f"A note needs 1 to {MAX_NOTE} characters.", _back(mention_id), "error")
    store.add_note(get_db(), mention_id, g.user["username"], body)
    return done("Note added.", _back(mention_id))


@bp.post("/<int:mention_id>/link")
@editor_required
def link(mention_id: int):
    """Link another account (platform + handle) to this mention's author as one customer."""
    mention = get_mention_or_404(mention_id)
    platform, handle = request.form.get("platform", ""), request.form.get("handle", "").strip()
    if platform not in collectors.PLATFORMS or not handle:
        return done("Choose a network and type the account's handle.", _back(mention_id), "error")
    try:
        store.link_account(get_db(), mention, platform, handle, g.user["username"])
    except store.CustomerError as exc:
        return done(str(exc), _back(mention_id), "error")
    return done(f"Linked {handle} on {collectors.label(platform)}: their history now shows both.", _back(mention_id))


@bp.post("/<int:mention_id>/unlink")
@editor_required
def unlink(mention_id: int):
    """Take one account out of this author's customer."""
    mention = get_mention_or_404(mention_id)
    platform, author_id = request.form.get("platform", ""), request.form.get("author_id", "")
    try:
        store.unlink_account(get_db(), mention, platform, author_id, g.user["username"])
    except store.CustomerError as exc:
        return done(str(exc), _back(mention_id), "error")
    return done(f"Unlinked the {collectors.label(platform)} account.", _back(mention_id))


@bp.post("/<int:mention_id>/correct")
@editor_required
def correct(mention_id: int):
    """Record the right sentiment, or urgent / not urgent, for retraining."""
    get_mention_or_404(mention_id)
    field, value = request.form.get("field", ""), request.form.get("value", "")
    valid = {"sentiment": SENTIMENTS, "urgent": ("true", "false")}
    if value not in valid.get(field, ()):
        return done("Choose a sentiment, or urgent / not urgent.", _back(mention_id), "error")
    store.add_correction(get_db(), mention_id, field, value, g.user["username"])
    label = {"true": "urgent", "false": "not urgent"}.get(value, value)
    return done(f"Correction saved: {label}.", _back(mention_id))
