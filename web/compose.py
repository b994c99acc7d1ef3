"""The composer: claims, saved replies, posting with an idempotency key, and replying by hand.

Opening the composer only reads; taking the claim is its own POST, which
compose.js sends as the page opens (without script the page offers a button).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

import collectors
import store
from web import replying, survey, textcount
from web.auth import admin_required, editor_required
from web.db import get_db
from web.mention import get_mention_or_404
from web.views import done, parse_id, settings

bp = Blueprint("compose", __name__)


def _demo() -> bool:
    """Whether replies are recorded locally only."""
    return current_app.config["EARSHOT_DEMO"]


def _render(mention: dict, body: str = "", key: str | None = None, status: int = 200):
    """The composer page, keeping any draft and (unused) idempotency key."""
    db = get_db()
    claim = store.active_claim(db, mention["id"])
    mine = claim is not None and claim["username"] == g.user["username"]
    key = key or secrets.token_urlsafe(18)
    link = survey.link_for(key)  # {survey}: the CSAT link of the reply this form posts (its key)
    saved = [{"name": s["name"], "body": replying.fill(s["body"], mention, g.user, link)} for s in store.saved_replies(db)]
    page = render_template(
        "compose/compose.html",
        m=mention, body=body, key=key, saved=saved, claim=claim,
        my_claim=claim if mine else None, others_claim=claim if claim and not mine else None,
        previous=store.public_reply(db, mention["id"]),
        blocked=replying.api_block_reason(settings(), mention, _demo()),
        composer_link=collectors.composer_url(mention),
        platform_name=replying.platform_name(mention["platform"]),
        limit=textcount.limit(mention["platform"], collectors.reply_limit(db, mention)),
    )  # fmt: skip
    return page, status


@bp.get("/m/<int:mention_id>/reply")
@editor_required
def composer(mention_id: int):
    """Show the composer (a read: the claim is taken by the POST below)."""
    mention = get_mention_or_404(mention_id)
    db = get_db()
    draft = ""
    retry_id = parse_id(request.args.get("retry"))
    retry = store.get_reply(db, retry_id) if retry_id is not None else None
    if retry and retry["mention_id"] == mention_id and retry["status"] == "failed":
        draft = retry["body"]
    return _render(mention, draft)


@bp.post("/m/<int:mention_id>/claim")
@editor_required
def claim(mention_id: int):
    """Claim the mention for the agent, so colleagues see who is replying (unless someone else holds it)."""
    get_mention_or_404(mention_id)
    held = store.claim_mention(get_db(), mention_id, g.user["username"], settings().console.claim_minutes)
    back = url_for(".composer", mention_id=mention_id)
    if held is None:  # claims that expire at once: [console] claim_minutes is 0
        return done("No claim was taken: [console] claim_minutes is 0.", back, "error", claimed=False)
    if held["username"] != g.user["username"]:
        message = f"{held['display_name']} is already replying to this mention."
        return done(message, back, "error", claimed=False)
    until = store.parse_utc(held["expires_at"]).strftime("%H:%M UTC")
    return done(f"You are replying: colleagues see this mention as yours until {until}.", back, claimed=True)


@bp.post("/m/<int:mention_id>/reply")
@editor_required
def send(mention_id: int):
    """Post the reply once per idempotency key; keep the draft on any failure."""
    mention = get_mention_or_404(mention_id)
    body, key = request.form.get("body", "").strip(), request.form.get("key", "")
    reported = collectors.reply_limit(get_db(), mention)
    problem = replying.body_problem(body, mention["platform"], reported) or _claim_problem(mention_id)
    problem = problem or replying.api_block_reason(settings(), mention, _demo())
    if problem or not key:
        flash(problem or "The form was missing its reply key; reload the composer.", "error")
        return _render(mention, body, key, 422)
    try:
        reply, created = store.start_reply(get_db(), mention_id, key, g.user["username"], body, _override())
    except store.ReplyConflict as exc:
        flash(_conflict_message(exc.reply), "error")
        return _render(mention, body, key, 409)
    if not created:
        flash(f"That reply was already submitted ({reply['status']}); it was not posted again.", "info")
        return redirect(url_for("mention.view", mention_id=mention_id))
    try:
        replying.post(get_db(), settings(), mention, reply, g.user["username"], _demo())
    except replying.ReplyFailed as exc:
        flash(f"Not posted. {exc} Your draft is kept below.", "error")
        return redirect(url_for(".composer", mention_id=mention_id, retry=reply["id"]))
    flash("Demo reply recorded (nothing was sent)." if _demo() else "Reply posted.", "success")
    return redirect(url_for("mention.view", mention_id=mention_id))


@bp.post("/m/<int:mention_id>/replied")
@editor_required
def mark_replied(mention_id: int):
    """Record a reply made by hand on the platform itself."""
    mention = get_mention_or_404(mention_id)
    body = request.form.get("body", "").strip() or "(replied on the platform)"
    key = request.form.get("key") or secrets.token_urlsafe(18)
    try:
        reply, created = store.start_reply(get_db(), mention_id, key, g.user["username"], body, _override())
    except store.ReplyConflict as exc:
        flash(_conflict_message(exc.reply), "error")
        return _render(mention, body, None, 409)
    if created:
        store.finish_reply(get_db(), reply["id"], "manual", g.user["username"])
    flash("Marked as replied on " + replying.platform_name(mention["platform"]) + ".", "success")
    return redirect(url_for("mention.view", mention_id=mention_id))


@bp.post("/m/<int:mention_id>/release")
@editor_required
def release(mention_id: int):
    """Close the composer without replying, freeing the claim."""
    get_mention_or_404(mention_id)
    store.release_claim(get_db(), mention_id, g.user["username"])
    return redirect(url_for("mention.view", mention_id=mention_id))


def _override() -> bool:
    """Whether the agent explicitly asked to post despite an earlier reply or a claim."""
    return request.form.get("override") == "1"


def _claim_problem(mention_id: int) -> str | None:
    """Refuse to post while someone else is replying, unless overridden."""
    claim = store.active_claim(get_db(), mention_id)
    if claim and claim["username"] != g.user["username"] and not _override():
        return f"{claim['display_name']} is replying to this mention. Tick “Post anyway” to override."
    return None


def _conflict_message(reply: dict) -> str:
    """Explain that the mention already has a public reply."""
    who = reply.get("display_name") or reply["author"]
    return (f"{who} already replied to this mention ({reply['status']}, {reply['created_at']}). "
            "Tick “Post a second public reply” to send another.")  # fmt: skip


@bp.route("/saved-replies", methods=["GET", "POST"])
@admin_required
def saved_replies():
    """Admins manage the saved reply templates."""
    db = get_db()
    if request.method == "POST":
        name, body = request.form.get("name", "").strip(), request.form.get("body", "").strip()
        if not name or not body:
            flash("A saved reply needs a name and a text.", "error")
        else:
            store.add_saved_reply(db, name[:80], body, g.user["username"])
            flash(f"Saved reply “{name[:80]}” stored.", "success")
        return redirect(url_for(".saved_replies"))
    return render_template("compose/saved.html", saved=store.saved_replies(db))


@bp.post("/saved-replies/<int:saved_id>/delete")
@admin_required
def delete_saved_reply(saved_id: int):
    """Delete a saved reply template."""
    store.delete_saved_reply(get_db(), saved_id, g.user["username"])
    flash("Saved reply deleted.", "info")
    return redirect(url_for(".saved_replies"))
