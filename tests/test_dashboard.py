"""The dashboard blueprint: who may see it, filters, CSV and HTML report downloads, escaping, the alert banner, the vendored chart library."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime

import pytest
from browser_helpers import add_users, login
from test_reputation import seed_hand_fixture

import clock
import demo
import store
from classifier.urgency import detect_intents

ROOT_VENDOR = "web/static/vendor/chartjs"
RANGE = {"from": "2026-11-10", "to": "2026-11-11", "bucket": "day"}
NEGATIVE_CATEGORIES = {"outage", "billing", "account", "cancel", "legal", "privacy", "safety", "sarcasm",
                       "damage", "delivery", "scam"}  # fmt: skip


def load_scored_demo(db, settings, now: datetime | None = None) -> dict:
    """The demo data, scored from the demo's own categories (no model needed) with real intents."""
    now = now or clock.now()
    summary = demo.load_demo(db, settings, now=now)
    score_demo(db)
    return summary


def score_demo(db) -> None:
    """Score the loaded demo mentions from the demo's own categories, as a stand-in for the model."""
    rows = []
    for item in demo.build(clock.now()):  # categories and ids do not depend on `now`
        mention_id = store.mention_id(db, item.record["platform"], item.record["id"])
        if mention_id is None:
            continue
        sentiment = "negative" if item.cat in NEGATIVE_CATEGORIES else "positive" if item.cat == "praise" else "neutral"
        rows.append({"id": mention_id, "sentiment": sentiment, "sentiment_scores": {}, "sentiment_model": "demo-labels",
                     "sentiment_low_confidence": False, "urgency": 50.0, "urgency_parts": {},
                     "intents": detect_intents(item.record["text"])})  # fmt: skip
    store.save_scores(db, rows)


@pytest.fixture
def staff(db):
    """admin, agents sam and alex, viewer pat."""
    add_users(db)
    return db


def test_dashboard_needs_a_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["pat", "sam", "admin"])
def test_every_role_sees_the_dashboard_and_its_nav_link(client, staff, username):
    login(client, username)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="/dashboard/"' in page and ">Dashboard<" in page
    for chart in ("chart-volume", "chart-net", "chart-sov", "chart-themes", "chart-agents"):
        assert f'id="{chart}"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<script>" not in page  # no inline script (CSP)


def test_dashboard_shows_hand_fixture_figures(client, staff, settings):
    seed_hand_fixture(staff)
    login(client, "pat")
    page = client.get("/dashboard/", query_string=RANGE).get_data(as_text=True)
    assert "-28.6" in page  # net sentiment over both days
    assert "66.7%" in page  # response rate
    assert "45m" in page and "1h 42m" in page  # median 45, p90 102 minutes
    assert "75.0%" in page  # within SLA


def test_filters_narrow_the_view_and_bad_filters_are_explained(client, staff):
    seed_hand_fixture(staff)
    login(client, "pat")
    page = client.get("/dashboard/", query_string={**RANGE, "brand": "parcelo"}).get_data(as_text=True)
    assert "Parcelo, 2026-11-10" in page and "50.0%" in page  # 1 of 2 Parcelo mentions answered
    bad = client.get("/dashboard/", query_string={"from": "2026-11-12", "to": "2026-11-01"})
    assert bad.status_code == 400 and "is after" in bad.get_data(as_text=True)
    unknown = client.get("/dashboard/", query_string={"brand": "Nope"})
    assert unknown.status_code == 400 and "no brand named" in unknown.get_data(as_text=True)


def _csv_rows(response) -> list[dict]:
    """A CSV response as dicts."""
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_mentions_csv_applies_the_filters_and_defuses_formulas(client, staff):
    seed_hand_fixture(staff)
    login(client, "pat")
    response = client.get("/dashboard/mentions.csv", query_string={**RANGE, "brand": "Lumina Mobile", "platform": "x"})
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://evil\") outage again", "billing and outage",
                                         "neutral question"]  # fmt: skip
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)


def test_metrics_csv_per_section_and_all(client, staff):
    seed_hand_fixture(staff)
    login(client, "pat")
    volume = _csv_rows(client.get("/dashboard/metrics/volume.csv", query_string=RANGE))
    assert [(r["negative"], r["positive"], r["unscored"], r["net_sentiment"]) for r in volume] == [
        ("3", "1", "0", "-50.0"), ("1", "1", "1", "0.0")]  # fmt: skip
    responses = _csv_rows(client.get("/dashboard/metrics/responses.csv", query_string=RANGE))
    assert responses[0]["who"] == "team" and responses[0]["median_minutes"] == "45.0"
    assert {r["who"] for r in responses} == {"team", "Sam", "Alex"}
    everything = _csv_rows(client.get("/dashboard/metrics.csv", query_string=RANGE))
    assert {r["section"] for r in everything} == {"volume", "share_of_voice", "themes", "terms", "responses", "outcomes", "retention", "improvements"}
    assert client.get("/dashboard/metrics/nope.csv").status_code == 404


def _alert(db, brand: str, window_end: str, reason: str) -> int:
    """Store a banner-only alert whose window ends at `window_end`."""
    start = window_end.replace("T10:", "T09:")
    return store.add_alert(db, {"brand": brand, "kinds": "volume", "window_start": start, "window_end": window_end,
                                "mentions": 40, "baseline": 4.0, "reason": reason}, [])  # fmt: skip


def test_html_report_downloads_the_range_and_brand_on_screen(client, staff):
    seed_hand_fixture(staff, evil='<script>alert("x")</script> outage')
    _alert(staff, "Lumina Mobile", "2026-11-10T10:00:00Z", "Volume up 10x <b>in range</b>")
    _alert(staff, "Parcelo", "2026-11-11T10:00:00Z", "Parcelo in range")
    _alert(staff, "Lumina Mobile", "2026-11-20T10:00:00Z", "Lumina after the range")
    login(client, "pat")  # a viewer may download it too
    page = client.get("/dashboard/", query_string={**RANGE, "brand": "Lumina Mobile"}).get_data(as_text=True)
    link = re.search(r'<a id="report-download" href="([^"]+)" download', page).group(1).replace("&amp;", "&")
    assert link.startswith("/dashboard/report.html?") and "from=2026-11-10" in link and "brand=Lumina+Mobile" in link
    response = client.get(link)
    assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="earshot-report-lumina-mobile-2026-11-10-to-2026-11-11.html"'
    html = response.get_data(as_text=True)
    assert "Lumina Mobile, 2026-11-10 00:00 to 2026-11-12 00:00 UTC" in html
    assert "<b>4</b>mentions" in html  # fixture mentions 1 to 4: the ones just before and after the range are out
    assert "Volume up 10x &lt;b&gt;in range&lt;/b&gt;" in html
    assert "Parcelo in range" not in html and "after the range" not in html  # another brand; another time
    assert "<script" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; outage" in html
    assert html.count("<svg") == 4 and "src=" not in html and "<link" not in html  # standalone, works offline


@pytest.mark.parametrize(
    ("query", "total", "filename"),
    [
        ({}, 8, "earshot-report-2026-11-10-to-2026-11-11.html"),
        ({"brand": "parcelo", "platform": "reddit"}, 1, "earshot-report-parcelo-reddit-2026-11-10-to-2026-11-11.html"),
    ],
)  # fmt: skip
def test_html_report_honours_every_filter(client, staff, query, total, filename):
    seed_hand_fixture(staff)
    login(client, "pat")
    response = client.get("/dashboard/report.html", query_string={**RANGE, **query})
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert f"<b>{total}</b>mentions" in response.get_data(as_text=True)


def test_html_report_refuses_bad_filters_and_strangers(client, staff):
    assert client.get("/dashboard/report.html").status_code == 302  # to the login page
    login(client, "pat")
    bad = client.get("/dashboard/report.html", query_string={"from": "2026-11-12", "to": "2026-11-01"})
    assert bad.status_code == 400 and "is after" in bad.get_data(as_text=True)
    assert client.get("/dashboard/report.html", query_string={"brand": "Nope"}).status_code == 400


def test_mention_text_is_escaped_everywhere(client, staff, settings):
    seed_hand_fixture(staff, evil='<script>alert("x")</script> outage')
    login(client, "pat")
    page = client.get("/dashboard/", query_string=RANGE).get_data(as_text=True)
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
    data_block = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S)
    assert data_block and "<" not in data_block.group(1)


def test_alert_banner_shows_until_an_editor_dismisses_it(client, staff):
    alert_id = store.add_alert(staff, {
        "brand": "Lumina Mobile", "kinds": "volume", "window_start": "2026-11-22T05:00:00Z",
        "window_end": "2026-11-22T06:00:00Z", "mentions": 40, "baseline": 4.0,
        "reason": "Volume up 10x: <b>40</b> mentions", "detail": {"terms": [{"term": "no signal", "mentions": 9}]},
    }, [])  # fmt: skip
    login(client, "pat")
    inbox = client.get("/").get_data(as_text=True)
    assert "Spike alert for Lumina Mobile" in inbox and "&lt;b&gt;40&lt;/b&gt;" in inbox
    alerts_page = client.get("/dashboard/alerts").get_data(as_text=True)
    assert "no signal (9)" in alerts_page and "Dismiss" not in alerts_page  # viewers cannot dismiss
    token = re.search(r'name="csrf_token" value="([^"]+)"', inbox).group(1)
    assert client.post(f"/dashboard/alerts/{alert_id}/dismiss", data={"csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, "sam")
    page = client.get("/dashboard/alerts").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/dashboard/alerts/{alert_id}/dismiss", data={"csrf_token": token})
    assert "Spike alert for" not in client.get("/").get_data(as_text=True)
    assert store.get_alert(staff, alert_id)["dismissed_by"] == "sam"


def test_vendored_chart_library_matches_its_recorded_checksum():
    from conftest import ROOT

    folder = ROOT / ROOT_VENDOR
    note = (folder / "VERSION.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256((folder / "chart.umd.min.js").read_bytes()).hexdigest()
    assert f"sha256: {digest}" in note
    assert "Chart.js v4.5.1" in (folder / "chart.umd.min.js").read_text(encoding="utf-8")[:200]
    assert "MIT License" in (folder / "LICENSE.md").read_text(encoding="utf-8")


def test_dashboard_on_demo_data_renders(client, staff, settings):
    load_scored_demo(staff, settings)
    login(client, "pat")
    response = client.get("/dashboard/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Lumina Mobile" in page and "Voltel" in page and "(competitor)" in page
