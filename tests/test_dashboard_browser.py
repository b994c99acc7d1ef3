"""The dashboard in Debian's headless Chromium on demo data: every chart drawn, nothing fetched off-site, a screenshot for the README."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, LiveServer, add_users
from conftest import write_config
from test_dashboard import load_scored_demo

import settings as settings_mod
import store
from reputation import spikes
from web import create_app

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"
CHARTS = ("chart-volume", "chart-net", "chart-sov", "chart-themes", "chart-agents")
playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make chromium)", allow_module_level=True)

# Chart.js draws on a canvas: count the pixels that are not transparent.
PAINTED = """id => { const c = document.getElementById(id); const d = c.getContext('2d')
  .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; }
  return n; }"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Scored demo data, the alerts a replay finds in it (lower thresholds suit the small demo), and a live console."""
    tmp = tmp_path_factory.mktemp("dashboard-browser")
    replace = {"min_mentions = 20": "min_mentions = 5", "negative_min_mentions = 15": "negative_min_mentions = 5"}
    settings = settings_mod.load(write_config(tmp, replace=replace))
    db = store.connect(settings.db_path)
    now = datetime.now(UTC)
    load_scored_demo(db, settings, now)
    add_users(db)
    found = spikes.scan(db, settings, now - timedelta(days=7), now, 30, channels=[])
    app = create_app(settings, secret_key="browser-dashboard-key", demo=True)
    with LiveServer(app) as server:
        yield {"url": server.url, "db": db, "alerts": found, "now": now}
    db.close()


def test_dashboard_draws_every_chart_offline_and_saves_a_screenshot(served):
    today = served["now"].date()
    query = f"?from={(today - timedelta(days=13)).isoformat()}&to={today.isoformat()}"
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=served["url"])
            page.set_default_timeout(15_000)
            problems, requests = [], []
            page.on("console", lambda m: problems.append(f"{m.text} {m.location.get('url')}")
                    if m.type in ("error", "warning") else None)  # fmt: skip
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto("/login")
            page.fill("input[name=username]", "pat")  # a viewer
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/$"))
            page.goto("/dashboard/" + query)
            page.wait_for_selector("body[data-charts=ready]")
            painted = {chart: page.evaluate(PAINTED, chart) for chart in CHARTS}
            banner = page.locator(".banner-alert").first.inner_text()
            volume_rows = page.locator("#volume tbody tr").count()
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert all(count > 500 for count in painted.values()), painted
    assert volume_rows == 14  # the table beside the chart: one row a day
    assert served["alerts"] and "Spike alert for Lumina Mobile" in banner
    problems = [p for p in problems if not p.endswith("/favicon.ico")]  # the console has no icon (not ours)
    assert problems == []  # no script errors and no Content-Security-Policy violations
    assert all(url.startswith(served["url"]) for url in requests)  # Chart.js is served by Earshot itself
    assert any(url.endswith("/static/vendor/chartjs/chart.umd.min.js") for url in requests)
    assert SCREENSHOT.stat().st_size > 20_000
