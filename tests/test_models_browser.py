"""The Models page in headless Chromium: an admin finds it in the nav, promotes a version and rolls it back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, LiveServer, add_users
from test_model_versions import add_version

import store
from classifier import pipeline
from web import create_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make chromium)", allow_module_level=True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_admin_promotes_and_rolls_back_in_the_browser(db, settings):
    """Promote and roll back through the page's buttons; the table follows, and the audit trail has both."""
    add_users(db)
    add_version(settings, db)
    app = create_app(settings, secret_key="browser-models-key", demo=True)
    with LiveServer(app) as server, playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = chromium.new_context(base_url=server.url).new_page()
        page.set_default_timeout(20_000)
        page.goto("/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
        page.click("nav >> text=Models")
        row = page.locator("tr[data-version=v2]")
        assert "70.50 / 70.00" in row.inner_text() and "candidate" in row.inner_text()
        row.locator("button", has_text="Promote").click()
        page.wait_for_url(re.compile(r"/models/$"))
        assert "v2 is now active (was bundled)" in page.content()
        assert page.locator("tr.active").get_attribute("data-version") == "v2"
        page.click("text=Roll back to the previous version")
        assert "bundled is active again (was v2)" in page.content()
        assert page.locator("tr.active").get_attribute("data-version") == "bundled"
        chromium.close()
    pipeline.wait_for_rescoring(120)
    assert store.active_model_version(db)["version"] == "bundled"
    actions = [
        r["action"] for r in db.query("SELECT action FROM audit_log WHERE action LIKE 'model_%' ORDER BY id")
    ]
    assert actions == ["model_promote", "model_rollback"]
