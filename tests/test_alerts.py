"""Spike alerts: a planted spike alerts once (cooldown), reaches a local webhook and a local SMTP server, retries are
bounded; the demo's outage raises a real alert under the shipped thresholds, and demo mode never sends one."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from browser_helpers import login
from conftest import write_config
from test_dashboard import score_demo

import clock
import demo
import runtime
import settings as settings_mod
import store
from reputation import jobs, notify, spikes
from web import create_app

WEBHOOK_ENV = "EARSHOT_ALERT_WEBHOOK_URL"
SPIKE_TEXTS = ("No signal in Leeds since 6am, total outage", "Still no signal here, is Lumina Mobile down?",
               "no signal for hours, outage all over Leeds")  # fmt: skip
CALM_TEXTS = ("What time does the shop open?", "Thanks for the help yesterday", "Is roaming included in France?")


class Webhook:
    """A local Slack-style webhook on 127.0.0.1 that records posts and answers with the queued statuses."""

    def __init__(self, statuses: list[int] | None = None):
        self.posts: list[dict] = []
        self.statuses = list(statuses or [])
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append({"json": json.loads(body), "type": self.headers["Content-Type"]})
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook(monkeypatch):
    """A running local webhook whose URL is in the environment, as in production."""
    with Webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        yield hook


def _mentions(db, brand: str, times: list[datetime], negative: int, texts: tuple[str, ...], tag: str) -> None:
    """Store and score mentions at these times; the first `negative` are negative."""
    rows = [{"platform": "x", "external_id": f"{tag}-{brand}-{i}", "brand": brand, "text": f"{texts[i % len(texts)]} #{i}",
             "author_id": f"{tag}{i}", "author_handle": f"{tag}{i}", "created_at": store.utc_text(t)}
            for i, t in enumerate(times)]  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, rows)
    scores = []
    for i, row in enumerate(rows):
        mention_id = store.mention_id(db, "x", row["external_id"])
        sentiment = "negative" if i < negative else "neutral"
        scores.append({"id": mention_id, "sentiment": sentiment, "sentiment_scores": {}, "sentiment_model": "t",
                       "sentiment_low_confidence": False, "urgency": 1.0, "urgency_parts": {},
                       "intents": ["outage"] if i < negative else []})  # fmt: skip
    store.save_scores(db, scores)


def plant(db, end: datetime, brand: str = "Lumina Mobile", per_day: int = 4, spike: int = 40, negative: int = 30,
          tag: str = "m") -> None:  # fmt: skip
    """`per_day` calm mentions in the hour before `end` on each of the 7 previous days, and `spike` in the last hour."""
    for day in range(1, 8):
        times = [end - timedelta(days=day, seconds=300 + i * 3000 // per_day) for i in range(per_day)]
        _mentions(db, brand, times, 1, CALM_TEXTS, f"{tag}b{day}")
    _mentions(db, brand, [end - timedelta(seconds=90 + 75 * i) for i in range(spike)], negative, SPIKE_TEXTS, f"{tag}s")


def test_planted_spike_alerts_once_to_the_webhook_and_the_cooldown_holds(runner, db, webhook):
    now = clock.now()
    plant(db, now)
    plant(db, now, brand="Parcelo", spike=4, negative=1)  # an ordinary hour: no alert
    first = runner(["alerts"])
    assert first.exit_code == 0, first.output
    assert "for Lumina Mobile" in first.output and "1 new alerts; deliveries: 1 sent" in first.output
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post["type"] == "application/json"
    text = post["json"]["text"]
    assert "Lumina Mobile" in text and "Parcelo" not in text
    assert "Volume up 10x: 40 mentions in 60 min vs 4 usual at this hour" in text
    assert "Negative share up 50 points: 75% of 40 scored mentions vs 25% usual" in text
    blocks = json.dumps(post["json"]["blocks"])
    assert "no signal" in blocks and "Top terms" in blocks and "Examples" in blocks

    _mentions(db, "Lumina Mobile", [now - timedelta(seconds=30 + i) for i in range(20)], 20, SPIKE_TEXTS, "later")
    again = runner(["alerts"])
    assert "0 new alerts" in again.output and len(webhook.posts) == 1  # the storm goes on; the cooldown holds
    alerts = store.list_alerts(db)
    assert [(a["brand"], a["kinds"], a["deliveries"]) for a in alerts] == [
        ("Lumina Mobile", "volume,negative_share", "webhook: sent")]  # fmt: skip


def test_cooldown_expires_and_each_brand_has_its_own(db, settings):
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    plant(db, end, brand="Parcelo", tag="p")
    assert len(spikes.check(db, settings, end, channels=[])) == 2  # one per brand
    later = end + timedelta(minutes=settings.alerts.cooldown_minutes - 1)
    plant(db, later, tag="again")
    assert spikes.check(db, settings, later, channels=[]) == []
    after = end + timedelta(minutes=settings.alerts.cooldown_minutes + 60)
    plant(db, after, tag="third")
    assert len(spikes.check(db, settings, after, channels=[])) == 1


def test_baseline_is_the_same_hour_of_day(db, settings):
    """40 mentions at a busy hour that always has about 40 is no spike."""
    end = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    plant(db, end, per_day=40, spike=40, negative=8)
    assert spikes.check(db, settings, end, channels=[]) == []
    assert spikes.scan(db, settings, end - timedelta(hours=3), end, 60, channels=[]) == []


def test_negative_share_alone_can_alert(db, settings):
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end, per_day=20, spike=20, negative=16)
    [alert_id] = spikes.check(db, settings, end, channels=[])
    alert = store.get_alert(db, alert_id)
    assert alert["kinds"] == "negative_share" and alert["negative_share"] == 0.8
    assert alert["reason"].startswith("Negative share up 75 points: 80% of 20 scored mentions vs 5% usual")


@pytest.mark.parametrize(
    ("current", "baseline", "fires"),
    [
        (20, [0] * 7, True),  # from nothing to the minimum
        (19, [0] * 7, False),  # below min_mentions
        (30, [10] * 7, True),
        (29, [10] * 7, False),  # under volume_ratio x the mean
        (60, [0, 0, 0, 0, 0, 0, 140], False),  # a baseline this spread out hides 60
    ],
)  # fmt: skip
def test_volume_thresholds(settings, current, baseline, fires):
    found = spikes.volume_finding({"mentions": current}, [{"mentions": b} for b in baseline], settings.alerts)
    assert (found is not None) == fires


def _delivery(db) -> dict:
    """The only delivery row."""
    [row] = db.execute("SELECT * FROM alert_deliveries").fetchall()
    return dict(zip([c[0] for c in db.execute("SELECT * FROM alert_deliveries").description], row, strict=True))


def test_failed_webhook_is_retried_later(db, settings, monkeypatch):
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    with Webhook(statuses=[500]) as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        first = jobs.check_and_deliver(db, settings, now=end)
        assert (len(first["alerts"]), first["sent"], first["retrying"]) == (1, 0, 1)
        assert notify.deliver_due(db, settings, end + timedelta(minutes=1)) == {"sent": 0, "retrying": 0, "failed": 0}
        assert notify.deliver_due(db, settings, end + timedelta(minutes=settings.alerts.retry_minutes))["sent"] == 1
        assert len(hook.posts) == 2
    row = _delivery(db)
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_retries_are_bounded(db, tmp_path, monkeypatch):
    settings = settings_mod.load(write_config(tmp_path, replace={"max_attempts = 5": "max_attempts = 3"}))
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    with Webhook(statuses=[500] * 10) as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        spikes.check(db, settings, end)
        for hours in range(6):
            notify.deliver_due(db, settings, end + timedelta(hours=hours))
        assert len(hook.posts) == 3
    row = _delivery(db)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "webhook: answered HTTP 500")
    assert hook.url not in (row["last_error"] or "")  # the secret URL never lands in the database


def _free_port() -> int:
    """A TCP port on 127.0.0.1 nobody is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _smtp_settings(tmp_path, port: int) -> settings_mod.Settings:
    """Settings that email alerts to a local SMTP server without TLS."""
    replace = {'smtp_host = ""': 'smtp_host = "127.0.0.1"', "smtp_port = 587": f"smtp_port = {port}",
               "smtp_starttls = true": "smtp_starttls = false", "email_to = []": 'email_to = ["pr@example.com"]'}  # fmt: skip
    return settings_mod.load(write_config(tmp_path, replace=replace))


def test_alert_email_reaches_a_local_smtp_server(db, tmp_path, monkeypatch):
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = controller_mod.Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = _smtp_settings(tmp_path, port)
        end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        plant(db, end)
        assert notify.channels(settings) == ["email"]
        result = jobs.check_and_deliver(db, settings, now=end)
    finally:
        controller.stop()
    assert result["sent"] == 1 and len(received) == 1
    assert received[0].rcpt_tos == ["pr@example.com"]
    message = message_from_bytes(received[0].content, policy=default_policy)
    assert message["Subject"] == "Earshot alert: spike for Lumina Mobile"
    body = message.get_content()
    assert "Volume up 10x" in body and "no signal" in body and "@ms0 on x: No signal in Leeds" in body


def test_unreachable_smtp_server_is_retried(db, tmp_path, monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    settings = _smtp_settings(tmp_path, _free_port())
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    result = jobs.check_and_deliver(db, settings, now=end)
    assert (result["sent"], result["retrying"]) == (0, 1)
    assert _delivery(db)["last_error"].startswith("email: ConnectionRefusedError")


def test_webhook_payload_escapes_post_text():
    alert = {"brand": "Lumina Mobile", "reason": "Volume up <5x> & more", "window_start": "a", "window_end": "b",
             "detail": {"terms": [], "examples": [{"author_handle": "x", "platform": "x",
                                                  "text": "<!channel> click <https://evil.example|here>"}]}}  # fmt: skip
    payload = json.dumps(notify.webhook_payload(alert))
    assert "<!channel>" not in payload and "&lt;!channel&gt;" in payload and "Volume up &lt;5x&gt; &amp; more" in payload


def test_no_channels_means_banner_only(db, settings, monkeypatch):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    result = jobs.check_and_deliver(db, settings, now=end)
    assert len(result["alerts"]) == 1 and result["sent"] == 0
    assert store.list_alerts(db)[0]["deliveries"] is None


def test_replay_stores_alerts_without_sending(runner, db, webhook):
    plant(db, clock.now() - timedelta(days=2))
    result = runner(["alerts", "--since", "3d"])
    assert result.exit_code == 0 and "1 new alerts" in result.output
    assert webhook.posts == []
    assert "unknown" not in runner(["alerts", "--since", "3x"]).output and runner(["alerts", "--since", "3x"]).exit_code == 1


def test_background_job_follows_the_settings(settings, tmp_path):
    messages = []
    off = settings_mod.load(write_config(tmp_path, replace={"[alerts]\nenabled = true": "[alerts]\nenabled = false"}))
    assert jobs.start_background(off, echo=messages.append) is None and "off" in messages[0]
    job = jobs.start_background(settings, echo=messages.append)
    try:
        assert "the console banner only" in messages[1]
    finally:
        job.stop()
    assert not job.thread.is_alive()


def test_malformed_webhook_url_is_retried_without_leaking_it(db, settings, monkeypatch, caplog):
    secret = "T000/B000/SECRETTOKEN"
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{_free_port()}/hooks/{secret} x")  # a stray space: InvalidURL
    end = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    plant(db, end)
    result = jobs.check_and_deliver(db, settings, now=end)
    assert (result["sent"], result["retrying"]) == (0, 1)
    assert _delivery(db)["last_error"] == "webhook: invalid URL or response (InvalidURL)"
    assert secret not in caplog.text


def test_the_demo_outage_alerts_under_the_shipped_thresholds(db, settings):
    """The demo, replayed as demo mode replays it, raises one alert: the Lumina Mobile outage, with its why."""
    demo.load_demo(db, settings)
    score_demo(db)
    [alert] = runtime.replay_demo_alerts(db, settings)
    outage_day = (clock.now() - timedelta(days=demo.SPIKE_DAYS_AGO)).date().isoformat()
    assert alert["brand"] == "Lumina Mobile" and alert["window_end"][:10] == outage_day
    assert "06:00" <= alert["window_end"][11:16] <= "08:00"  # caught early in the outage morning
    assert alert["mentions"] >= settings.alerts.negative_min_mentions and alert["baseline"] < 1
    assert alert["reason"].endswith("(baseline: the same hour on the previous 7 days).")
    detail = json.loads(alert["detail"])
    assert len(detail["terms"]) >= 3 and len(detail["examples"]) == 3  # what the window talks about, and examples


def test_demo_mode_checks_for_spikes_and_sends_nothing(tmp_path, monkeypatch):
    """`run` in demo mode: the outage's alert reaches the banner; no webhook or email, even with both set up."""
    settings = _smtp_settings(tmp_path, _free_port())  # nobody listens there: a send would leave a retry
    monkeypatch.setattr(runtime, "classify_pending", lambda db, settings, echo: score_demo(db))  # no model needed
    messages: list[str] = []
    with Webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        assert runtime.is_demo(settings)
        runtime.prepare(settings, True, messages.append)  # the first start loads the demo
        started = runtime.start_background_jobs(settings, messages.append, demo=True)
        assert [job.thread.name for job in started] == ["earshot-alerts"]  # and collects nothing
        for job in started:
            job.stop()
            job.work()  # one more check, as the job makes every check_minutes
    assert hook.posts == []
    assert any(m.startswith("Demo spike alert for Lumina Mobile (in the console banner only): ") for m in messages)
    assert any("alerts go to the console banner only (demo mode sends no webhook or email)" in m for m in messages)
    db = store.connect(settings.db_path)
    try:
        [alert] = store.list_alerts(db)
        assert alert["brand"] == "Lumina Mobile" and alert["deliveries"] is None
        assert db.execute("SELECT count(*) FROM alert_deliveries").fetchone()[0] == 0
    finally:
        db.close()
    client = create_app(settings, secret_key="demo-key", demo=True, testing=True).test_client()
    login(client, "pat", runtime.demo_password(settings))
    inbox = client.get("/").get_data(as_text=True)
    assert f"Spike alert for Lumina Mobile: {alert['reason']}" in inbox
