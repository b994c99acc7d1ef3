"""Alert delivery: a Slack-compatible webhook and SMTP email, each retried a bounded number of times.

Every alert gets one delivery row per configured channel. `deliver_due` tries each
due row once: a failure is retried later (retry_minutes, doubling) until max_attempts,
then marked failed. Secrets (the webhook URL, the SMTP password) come from the
environment variables named in config.toml and never appear in logs or errors.
"""

from __future__ import annotations

import http.client
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage

import clock
import store
from settings import Settings

log = logging.getLogger("earshot.reputation")

EXAMPLE_CHARS = 280


class DeliveryError(Exception):
    """An alert could not be delivered; the message says which channel failed and why."""


def channels(settings: Settings) -> list[str]:
    """The channels alerts go to: the webhook when its URL is set, email when SMTP is configured."""
    cfg = settings.alerts
    found = []
    if settings.env(cfg.webhook_url_env):
        found.append("webhook")
    if cfg.smtp_host and cfg.email_to:
        found.append("email")
    return found


def _detail(alert: dict) -> dict:
    """The alert's stored detail (terms, examples, findings)."""
    detail = alert.get("detail")
    return json.loads(detail) if isinstance(detail, str) else (detail or {})


def _clip(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """One line of at most `limit` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """Text safe inside Slack mrkdwn: &, < and > escaped, so a post cannot @channel or link."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary_lines(alert: dict) -> tuple[str, list[str], list[str]]:
    """(headline, top terms, example lines) of an alert, as plain text."""
    detail = _detail(alert)
    headline = f"Spike for {alert['brand']}: {alert['reason']}"
    top = [f"{t['term']} ({t['mentions']})" for t in detail.get("terms", [])]
    examples = [f"@{e.get('author_handle') or '?'} on {e.get('platform')}: {_clip(e.get('text'))}"
                for e in detail.get("examples", [])]  # fmt: skip
    return headline, top, examples


def webhook_payload(alert: dict) -> dict:
    """A Slack-compatible message: `text` for notifications, `blocks` for the layout."""
    headline, top, examples = summary_lines(alert)
    window = f"Window {alert['window_start']} to {alert['window_end']} (UTC)"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(f"Spike: {alert['brand']}", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(alert["reason"])}},
    ]
    if top:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top terms:* " + slack_escape(", ".join(top))}})
    if examples:
        quoted = "\n".join("> " + slack_escape(line) for line in examples)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Examples:*\n" + quoted}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(window)}]})
    return {"text": slack_escape("Earshot alert. " + headline), "blocks": blocks}


def email_message(alert: dict, settings: Settings) -> EmailMessage:
    """The alert as a plain-text email."""
    cfg = settings.alerts
    headline, top, examples = summary_lines(alert)
    body = [headline, "", f"Window: {alert['window_start']} to {alert['window_end']} (UTC)"]
    if top:
        body += ["", "Top terms: " + ", ".join(top)]
    if examples:
        body += ["", "Examples:", *("  - " + line for line in examples)]
    body += ["", "Open the Earshot dashboard for the full picture."]
    message = EmailMessage()
    message["Subject"] = _clip(f"Earshot alert: spike for {alert['brand']}", 120)
    message["From"] = cfg.email_from
    message["To"] = ", ".join(cfg.email_to)
    message.set_content("\n".join(body))
    return message


def post_webhook(url: str, payload: dict, timeout: float) -> None:
    """POST the payload as JSON; raise DeliveryError unless the hook answers 2xx."""
    if not url.lower().startswith(("https://", "http://")):
        raise DeliveryError("webhook: the URL must start with http:// or https://")
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook: answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"webhook: unreachable ({getattr(exc, 'reason', exc)})") from None
    except (http.client.HTTPException, ValueError) as exc:  # their messages can quote the secret URL
        raise DeliveryError(f"webhook: invalid URL or response ({type(exc).__name__})") from None


def send_email(message: EmailMessage, settings: Settings) -> None:
    """Send through the configured SMTP server; raise DeliveryError on any refusal."""
    cfg = settings.alerts
    try:
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout_seconds) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_username:
                smtp.login(cfg.smtp_username, settings.env(cfg.smtp_password_env) or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"email: {type(exc).__name__}: {exc}") from None


def deliver(alert: dict, channel: str, settings: Settings) -> None:
    """Send one alert on one channel; raise DeliveryError on failure."""
    if channel == "webhook":
        url = settings.env(settings.alerts.webhook_url_env)
        if not url:
            raise DeliveryError(f"webhook: {settings.alerts.webhook_url_env} is not set")
        post_webhook(url, webhook_payload(alert), settings.alerts.timeout_seconds)
    elif channel == "email":
        send_email(email_message(alert, settings), settings)
    else:
        raise DeliveryError(f"unknown channel {channel!r}")


def retry_time(attempts: int, settings: Settings, now: datetime) -> str | None:
    """When to try again after `attempts` failed tries, or None once max_attempts is reached."""
    cfg = settings.alerts
    if attempts >= cfg.max_attempts:
        return None
    return store.utc_text(now + timedelta(minutes=cfg.retry_minutes * 2 ** (attempts - 1)))


def deliver_due(db, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Try every due delivery once; return how many were sent, will retry, and failed for good."""
    now = now or clock.now()
    tally = {"sent": 0, "retrying": 0, "failed": 0}
    for delivery in store.due_deliveries(db, store.utc_text(now)):
        alert = store.get_alert(db, delivery["alert_id"])
        try:
            deliver(alert, delivery["channel"], settings)
        except DeliveryError as exc:
            retry_at = retry_time(delivery["attempts"] + 1, settings, now)
            store.record_delivery(db, delivery["id"], str(exc), retry_at)
            tally["retrying" if retry_at else "failed"] += 1
            log.warning("Alert %s not delivered (attempt %s): %s", alert["id"], delivery["attempts"] + 1, exc)
            continue
        store.record_delivery(db, delivery["id"], None, None)
        tally["sent"] += 1
        log.info("Alert %s delivered by %s", alert["id"], delivery["channel"])
    return tally
