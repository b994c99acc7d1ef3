"""Outcomes in headless Chromium: the public survey (forged, expired, reused tokens; script in the comment),
the mention page's outcome with its evidence, and the dashboard's Outcomes section."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    LiveServer,
    add_mention,
    add_users,
    screenshot_folder,
)

import clock
import store
from reputation import outcomes
from web import create_app, survey

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make chromium)", allow_module_level=True)

SCRIPT = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


@pytest.fixture
def console(db, settings):
    """A demo console with an answered complaint, its customer's thank-you follow-up and a live server."""
    add_users(db)
    mention_id = add_mention(db, settings, "@LuminaHelp my bill doubled", author="dana", author_id="7")
    reply, _ = store.start_reply(db, mention_id, "browser-key", "sam", "Sorry!")
    store.finish_reply(
        db, reply["id"], "sent", "sam", external_id="900", url="https://x.com/i/web/status/900"
    )
    store.upsert_mentions(db, [{"platform": "x", "external_id": "901", "brand": "Lumina Mobile", "query": "followups:0",
                                "text": "@LuminaHelp thank you, sorted!", "author_id": "7", "author_handle": "dana",
                                "in_reply_to_id": "900", "created_at": store.utcnow()}])  # fmt: skip
    outcomes.refresh(db, settings)
    app = create_app(settings, secret_key="browser-outcomes-key", demo=True)
    with app.test_request_context():
        token = survey.token_for("browser-key")
    with LiveServer(app) as server:
        yield {"url": server.url, "token": token, "mention_id": mention_id, "reply_id": reply["id"], "db": db}


@pytest.fixture
def page(console):
    """A fresh browser page on the console's address."""
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=console["url"])
        yield context.new_page()
        browser.close()


def test_survey_in_the_browser_one_vote_and_script_stays_text(console, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/s/{console['token']}")
    assert page.locator("h1").inner_text() == "How did we do?"
    page.check("input[name=rating][value='5']")
    page.fill("textarea[name=comment]", SCRIPT)
    page.click("button[type=submit]")
    assert page.locator("#survey-done").inner_text() == "Your answer is recorded: 5 out of 5."
    page.screenshot(path=str(screenshot_folder() / "survey-thanks.png"))
    assert store.csat_for_reply(console["db"], console["reply_id"])["comment"] == SCRIPT
    page.goto(f"/s/{console['token']}")
    assert page.locator("input[name=rating]").count() == 0, "a reused link offers no second vote"
    page.goto("/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/m/{console['mention_id']}")
    assert page.locator(".csat-comment").inner_text() == SCRIPT, "shown as text"
    assert page.evaluate("window.pwned") is None and not dialogs
    assert page.locator("[data-outcome]").get_attribute("data-outcome") == "satisfied"
    assert "thank you, sorted!" in page.locator("#outcome").inner_text()


def test_forged_and_expired_links_show_a_refusal_in_the_browser(console, page):
    forged = page.goto(f"/s/{console['token'][:-3]}xyz")
    assert forged.status == 404 and "not valid" in page.content()
    clock.start_at(clock.now() + timedelta(days=60))
    expired = page.goto(f"/s/{console['token']}")
    assert expired.status == 410 and "expired" in page.content()
    assert page.locator("input[name=rating]").count() == 0


def test_dashboard_outcomes_section_has_its_chart_and_tables(console, page):
    page.goto("/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto("/dashboard/")
    section = page.locator("#outcomes")
    assert section.locator("svg").count() == 1
    assert page.locator("#kpi-satisfaction").inner_text() == "100.0%"
    assert "Sam" in page.locator("#outcomes-by-agent").inner_text()
    assert "billing" in page.locator("#outcomes-by-theme").inner_text()
    section.screenshot(path=str(screenshot_folder() / "dashboard-outcomes.png"))
