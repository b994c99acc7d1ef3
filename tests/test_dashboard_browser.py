"""The dashboard in Debian's headless Chromium on demo data: every chart drawn, nothing fetched off-site, the demo's
own spike alert in the banner, the HTML report downloaded, emoji in colour, and screenshots kept out of docs/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_SCREENSHOTS,
    PASSWORD,
    SCREENSHOTS_ENV,
    LiveServer,
    add_users,
    screenshot_folder,
)
from conftest import ROOT, TEST_NOW, write_config
from test_dashboard import load_scored_demo

import clock
import runtime
import settings as settings_mod
import store
from web import create_app

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs"
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
    """Scored demo data, the alerts demo mode raises from it under the shipped thresholds, and a live console."""
    clock.start_at(TEST_NOW)  # module fixtures start before conftest's per-test clock: never the wall clock
    tmp = tmp_path_factory.mktemp("dashboard-browser")
    settings = settings_mod.load(write_config(tmp))
    db = store.connect(settings.db_path)
    now = clock.now()
    load_scored_demo(db, settings, now)
    add_users(db)
    found = runtime.replay_demo_alerts(db, settings)
    app = create_app(settings, secret_key="browser-dashboard-key", demo=True)
    with LiveServer(app) as server:
        yield {"url": server.url, "db": db, "alerts": found, "now": now}
    db.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def viewer(browser, served):
    """(page, problems, requests): a page logged in as the viewer pat, the script problems and every request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=served["url"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"{m.text} {m.location.get('url')}")
            if m.type in ("error", "warning") else None)  # fmt: skip
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/login")
    page.fill("input[name=username]", "pat")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    yield page, problems, requests
    context.close()


def _fortnight(served) -> dict[str, str]:
    """The dashboard's query for the demo's last 14 days."""
    today = served["now"].date()
    return {"from": (today - timedelta(days=13)).isoformat(), "to": today.isoformat()}


def test_dashboard_draws_every_chart_offline_and_saves_a_screenshot(served, viewer):
    page, problems, requests = viewer
    fortnight = _fortnight(served)
    page.goto(f"/dashboard/?from={fortnight['from']}&to={fortnight['to']}")
    page.wait_for_selector("body[data-charts=ready]")
    painted = {chart: page.evaluate(PAINTED, chart) for chart in CHARTS}
    banners = page.locator(".banner-alert").all_inner_texts()
    volume_rows = page.locator("#volume tbody tr").count()
    screenshot = screenshot_folder() / "dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert all(count > 500 for count in painted.values()), painted
    assert volume_rows == 14  # the table beside the chart: one row a day
    # The demo's outage is its one alert under the shipped thresholds, whatever the hour of the day.
    [alert] = served["alerts"]
    assert len(banners) == 1 and banners[0].startswith(f"Spike alert for Lumina Mobile: {alert['reason']}")
    problems = [p for p in problems if not p.endswith("/favicon.ico")]  # the console has no icon (not ours)
    assert problems == []  # no script errors and no Content-Security-Policy violations
    assert all(url.startswith(served["url"]) for url in requests)  # Chart.js is served by Earshot itself
    assert any(url.endswith("/static/vendor/chartjs/chart.umd.min.js") for url in requests)
    assert screenshot.stat().st_size > 20_000


def test_dashboard_downloads_the_html_report_of_the_view_on_screen(served, viewer):
    page = viewer[0]
    fortnight = _fortnight(served)
    page.goto(f"/dashboard/?from={fortnight['from']}&to={fortnight['to']}&brand=Lumina+Mobile")
    link = page.locator("#report-download")
    assert link.inner_text() == "HTML report"
    href = link.get_attribute("href")
    assert href.startswith("/dashboard/report.html?") and f"from={fortnight['from']}" in href and "brand=Lumina" in href
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"earshot-report-lumina-mobile-{fortnight['from']}-to-{fortnight['to']}.html"
    html = Path(download.path()).read_text(encoding="utf-8")
    assert f"Lumina Mobile, {fortnight['from']} 00:00" in html and "<svg" in html
    assert served["alerts"][0]["window_end"] in html  # the outage's alert is in the range and the brand


# A colour emoji draws coloured pixels; without an emoji font Chromium draws a black empty box.
COLOURED = r"""() => { const c = document.createElement('canvas'); c.width = c.height = 64;
  const g = c.getContext('2d'); g.font = '48px sans-serif'; g.fillText('\u{1F4E6}\u{1F389}', 0, 52);
  const d = g.getImageData(0, 0, 64, 64).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) { if (d[i + 3] && Math.max(d[i], d[i + 1], d[i + 2])
    - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++; } return n; }"""


def test_emoji_render_in_colour_not_as_empty_boxes(browser):
    """Debian's fonts-noto-color-emoji (make chromium) is installed where the screenshots are taken."""
    page = browser.new_page()
    try:
        assert page.evaluate(COLOURED) > 200
    finally:
        page.close()


@pytest.mark.skipif(bool(os.environ.get(SCREENSHOTS_ENV)), reason="make screenshots writes docs/ on purpose")
def test_screenshots_leave_the_readme_pictures_alone():
    """The browser tests save every screenshot in bench/out/screenshots; only `make screenshots` writes docs/."""
    def snapshot() -> dict[str, tuple[int, bytes]]:
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in DOCS.glob("*.png")}

    before, started = snapshot(), time.time() - 1
    env = {k: v for k, v in os.environ.items() if k != SCREENSHOTS_ENV}
    nodes = ["tests/test_dashboard_browser.py::test_dashboard_draws_every_chart_offline_and_saves_a_screenshot",
             "tests/test_browser.py::test_login_and_inbox_ordered_by_urgency",
             "tests/test_browser.py::test_reply_with_saved_reply_is_posted_and_shown_as_sent"]  # fmt: skip
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *nodes], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]
    assert snapshot() == before
    for name in ("dashboard.png", "inbox.png", "mention.png", "composer.png"):
        assert (DEFAULT_SCREENSHOTS / name).stat().st_mtime >= started, name
