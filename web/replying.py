"""Posting a public reply: stored as pending, sent through the platform's collector, then marked.

This module holds the reply rules; the compose blueprint only parses forms and renders.
"""

from __future__ import annotations

import logging
import re

import collectors
import store
from reputation import outcomes
from settings import Settings
from web import textcount

VARIABLES = re.compile(r"\{(author|brand|agent|survey)\}")


class ReplyFailed(Exception):
    """The platform did not take the reply; the message says why, in plain words."""

log = logging.getLogger("earshot.web")


def platform_name(platform: str) -> str:
    """The platform as people call it (from the network registry)."""
    return collectors.label(platform)


def fill(template: str, mention: dict, user: dict, survey: str = "") -> str:
    """A saved reply with {author}, {brand}, {agent} and {survey} (this reply's CSAT link) filled in."""
    values = {
        "author": mention.get("author_name") or mention.get("author_handle") or "there",
        "brand": mention["brand"],
        "agent": user.get("display_name") or user["username"],
        "survey": survey,
    }
    return VARIABLES.sub(lambda match: values[match.group(1)], template)


def body_problem(body: str, platform: str, reported: int | None = None) -> str | None:
    """Why this reply text can't be posted (None if it can); ``reported`` is a server's own limit."""
    if not body.strip():
        return "Write a reply first."
    size, most = textcount.length(body, platform), textcount.limit(platform, reported)
    if size > most:
        return f"The reply is {size} characters as {platform_name(platform)} counts them; the limit is {most}."
    return None


def api_block_reason(settings: Settings, mention: dict, demo: bool) -> str | None:
    """Why Earshot can't post this reply through the API (None when it can)."""
    name = platform_name(mention["platform"])
    brand = next((b for b in settings.brands if b.name == mention["brand"]), None)
    if brand is not None and brand.competitor:
        return f"{brand.name} is a competitor: Earshot never replies through the API for it."
    if not mention["reply_via_api"]:
        if mention["platform"] == "x":
            return "X only lets apps reply to posts that @mention or quote the brand. Reply on X instead."
        if mention["platform"] == "bluesky":
            return "The author's thread gate doesn't let the brand account reply. Reply on Bluesky instead."
        return f"{name} replies can't be posted from Earshot for this mention."
    if not demo and collectors.replier_for(settings, mention["platform"]) is None:
        return f"No {name} reply credentials are set up, so Earshot can't post there."
    return None


def post(db, settings: Settings, mention: dict, reply: dict, actor: str, demo: bool) -> dict:
    """Send a pending reply and mark it; raise ReplyFailed (reply marked failed) if the platform refuses."""
    if demo:
        store.finish_reply(db, reply["id"], "demo", actor)
        return store.get_reply(db, reply["id"])
    replier = collectors.replier_for(settings, mention["platform"])
    if replier is None:
        return _fail(db, reply, actor, f"No {platform_name(mention['platform'])} reply credentials are set up.")
    try:
        result = replier.reply(mention, reply["body"])
    except collectors.CollectorError as exc:
        return _fail(db, reply, actor, explain(exc, mention["platform"]))
    except Exception:
        log.exception("unexpected error while posting reply %s", reply["id"])
        return _fail(db, reply, actor, f"Something unexpected interrupted posting. Check {platform_name(mention['platform'])} "
                     "before trying again, in case the reply went out.")
    store.finish_reply(db, reply["id"], "sent", actor, external_id=result.external_id, url=result.url)
    sent = store.get_reply(db, reply["id"])
    outcomes.refresh(db, settings, since=sent["sent_at"])  # the mention now awaits the customer's answer
    return sent


def _fail(db, reply: dict, actor: str, reason: str):
    """Mark the reply failed and raise ReplyFailed with the reason."""
    store.finish_reply(db, reply["id"], "failed", actor, error=reason)
    raise ReplyFailed(reason)


def explain(exc: collectors.CollectorError, platform: str) -> str:
    """A collector error in plain words, with what to do next."""
    name = platform_name(platform)
    if isinstance(exc, collectors.ReplyRestricted):
        return f"{name} would not take this reply from Earshot: {exc} Reply on {name} instead."
    if isinstance(exc, collectors.RateLimited):
        return f"{name} is rate limiting Earshot: {exc} Try again after {exc.retry_at:%H:%M} UTC."
    if isinstance(exc, collectors.CredentialsError):
        return f"{name} rejected Earshot's credentials: {exc} An admin needs to check the API keys."
    return f"{name} refused the reply: {exc} Check {name} before retrying: it may have posted anyway."
