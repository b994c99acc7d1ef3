"""Four networks in one inbox: Bluesky and Mastodon mentions collected from loopback fakes, their composer
counters, and one customer's history across two networks (linked and unlinked, audited)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, LiveServer, add_users, csrf_from, login
from conftest import write_config
from fake_bluesky import HANDLE, FakeBluesky
from fake_mastodon import FakeMastodon

import settings as settings_mod
import store
from collectors.run import collect_source
from web import create_app, textcount

TEXTS = {
    "bluesky": "@luminamobile.bsky.social my eSIM has been pending since Monday",
    "mastodon": "@LuminaMobile roaming in Lisbon is not working at all",
    "bluesky_later": "Lumina Mobile sorted it, thank you!",
}


def env(bsky: FakeBluesky, masto: FakeMastodon) -> dict[str, str]:
    """Every credential the two fakes accept."""
    return {**bsky.env(), **masto.env()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Both fakes, a database collected from them (the same person, ana, on each), the console on loopback."""
    tmp = tmp_path_factory.mktemp("networks")
    with FakeBluesky() as bsky, FakeMastodon("mastodon.social") as masto:
        bsky.add_account(HANDLE, brand=True)
        bsky.add_account("parcelo.bsky.social")
        masto.add_account("LuminaMobile", brand=True)
        bsky.add_post(TEXTS["bluesky"], author="ana.bsky.social")
        masto.add_status(TEXTS["mastodon"], author="ana@other.example")
        replace = {
            **bsky.config_replacements(),
            'api_base = "https://mastodon.social"': f'api_base = "{masto.url}"',
        }
        settings = settings_mod.load(write_config(tmp, replace=replace))
        db = store.connect(settings.db_path)
        add_users(db)
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env(bsky, masto).items():
                mp.setenv(name, value)
            for platform in ("bluesky", "mastodon"):
                assert collect_source(db, settings, platform).status == "ok"
        ids = {p: store.mention_id(db, p, _external(db, p)) for p in ("bluesky", "mastodon")}
        _score(db, ids.values())
        app = create_app(settings, secret_key="networks-test-key", demo=False)
        with LiveServer(app) as server:
            yield {
                "bsky": bsky,
                "masto": masto,
                "db": db,
                "settings": settings,
                "url": server.url,
                "ids": ids,
            }
        db.close()


@pytest.fixture(autouse=True)
def _credentials(world, monkeypatch):
    """The fakes' credentials (conftest clears the environment before each test)."""
    for name, value in env(world["bsky"], world["masto"]).items():
        monkeypatch.setenv(name, value)


def _external(db, platform: str) -> str:
    """The external id of the one collected mention of a platform."""
    return db.execute("SELECT external_id FROM mentions WHERE platform = ?", [platform]).fetchone()[0]


def _score(db, ids) -> None:
    """Give collected mentions a score, as the classifier would, so they rank in the inbox."""
    store.save_scores(db, [{"id": i, "sentiment": "negative", "sentiment_model": "test-model",
                            "sentiment_scores": {"negative": 0.8, "neutral": 0.1, "positive": 0.1},
                            "sentiment_low_confidence": False, "urgency": 70.0 - n,
                            "urgency_parts": {"negativity": 20.0}, "intents": ["outage"]}
                           for n, i in enumerate(ids)])  # fmt: skip


# --- linking through the console (Flask client) ----------------------------------------------


def test_linking_needs_csrf_and_is_audited(world):
    db, ids = world["db"], world["ids"]
    client = create_app(world["settings"], secret_key="k", demo=False, testing=True).test_client()
    login(client, "sam")
    bsky_id = ids["bluesky"]
    refused = client.post(f"/m/{bsky_id}/link", data={"platform": "mastodon", "handle": "ana@other.example"})
    assert (
        refused.status_code == 400
        and store.customer_accounts(db, store.get_mention(db, bsky_id))[0]["customer_id"] is None
    )
    token = csrf_from(client.get(f"/m/{bsky_id}").get_data(as_text=True))
    unknown = client.post(f"/m/{bsky_id}/link", data={"csrf_token": token, "platform": "mastodon", "handle": "nobody@x.y"},
                          follow_redirects=True)  # fmt: skip
    assert "No stored mention comes from nobody@x.y" in unknown.get_data(as_text=True)
    client.post(
        f"/m/{bsky_id}/link",
        data={"csrf_token": token, "platform": "mastodon", "handle": "ana@other.example"},
    )
    mention = store.get_mention(db, bsky_id)
    assert [m["id"] for m in store.customer_mentions(db, mention)] == [ids["mastodon"]]
    masto_author = store.get_mention(db, ids["mastodon"])["author_id"]
    client.post(
        f"/m/{bsky_id}/unlink", data={"csrf_token": token, "platform": "mastodon", "author_id": masto_author}
    )
    assert store.customer_mentions(db, mention) == []
    actions = [a["action"] for a in store.mention_audit(db, bsky_id)]
    assert "customer.link" in actions and "customer.unlink" in actions


def test_a_reply_on_one_network_makes_the_person_returning_on_the_other(world):
    db, ids = world["db"], world["ids"]
    bsky, masto = store.get_mention(db, ids["bluesky"]), store.get_mention(db, ids["mastodon"])
    store.link_account(db, bsky, "mastodon", "ana@other.example", "sam")
    try:
        later = {**bsky, "id": -1, "created_at": "2100-01-01T00:00:00Z"}
        assert not store.is_returning(db, later)
        reply, _ = store.start_reply(db, masto["id"], "k-returning", "sam", "On it!", False)
        store.finish_reply(db, reply["id"], "sent", "sam", external_id="r1", url="https://example.invalid/r1")
        assert store.is_returning(db, later), "answered on Mastodon: returning on Bluesky"
        assert [r["body"] for r in store.customer_replies(db, bsky)] == ["On it!"]
    finally:
        store.unlink_account(db, bsky, "mastodon", masto["author_id"], "sam")


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (skipped where Playwright or Chromium is missing)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make chromium)")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, world):
    """A page logged in as the agent sam."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=world["url"])
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto("/login")
    tab.fill("input[name=username]", "sam")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r"/$"))
    yield tab
    context.close()


@pytest.mark.browser
def test_the_inbox_shows_bluesky_and_mastodon_mentions(page):
    rows = page.locator("tr.row")
    bsky = rows.filter(has_text="my eSIM has been pending")
    masto = rows.filter(has_text="roaming in Lisbon")
    assert bsky.count() == 1 and masto.count() == 1
    assert bsky.locator(".platform").inner_text() == "Bluesky"
    assert masto.locator(".platform").inner_text() == "Mastodon"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("platform", "text", "limit"),
    [
        ("bluesky", "Sorry 👨‍👩‍👧 é, see https://lumina.example/a/very/long/path/indeed", "300"),
        ("mastodon", "@ana@other.example sorry 🇵🇹! https://lumina.example/a/very/long/path/indeed", "495"),
    ],
)
def test_the_composer_counts_at_each_networks_limit(page, world, platform, text, limit):
    page.goto(f"/m/{world['ids'][platform]}/reply")
    assert page.locator(".counter").inner_text().startswith("0 / " + limit)
    page.fill("#reply-body", text)
    assert page.inner_text("#counter") == str(textcount.length(text, platform))
    page.fill("#reply-body", "é" * (int(limit) + 1))
    assert "over" in page.get_attribute(".counter", "class")


@pytest.mark.browser
def test_a_linked_customer_shows_one_history_across_two_networks(page, world):
    ids = world["ids"]
    page.goto(f"/m/{ids['bluesky']}")
    assert "None before." in page.inner_text(".author-card")
    page.select_option("#link-form select[name=platform]", "mastodon")
    page.fill("#link-form input[name=handle]", "ana@other.example")
    page.click("#link-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/m/{ids['bluesky']}$"))
    card = page.locator(".author-card")
    history = card.locator(".mention-line")
    assert history.count() == 1 and "roaming in Lisbon" in history.inner_text()
    assert history.locator(".platform").inner_text() == "Mastodon"
    assert card.locator(".linked-accounts li[data-platform=mastodon]").count() == 1
    page.goto(f"/m/{ids['mastodon']}")
    assert "my eSIM has been pending" in page.inner_text(".author-card"), "linked both ways"
    page.click(".linked-accounts li[data-platform=bluesky] button")
    page.wait_for_url(re.compile(rf"/m/{ids['mastodon']}$"))
    assert "None before." in page.inner_text(".author-card")
    assert "customer.unlink" in page.inner_text(".audit")


# --- the demo and the sources page ----------------------------------------------------------


def test_the_demo_covers_four_networks_and_a_customer_on_several(db, settings):
    import demo

    demo.load_demo(db, settings)
    platforms = {row[0] for row in db.execute("SELECT DISTINCT platform FROM mentions")}
    assert platforms == {"x", "reddit", "bluesky", "mastodon"}
    row = db.execute(
        "SELECT id FROM mentions WHERE platform = 'bluesky' AND author_handle = 'priyabakes.bsky.social'"
    )
    mention = store.get_mention(db, row.fetchone()[0])
    networks = {m["platform"] for m in store.customer_mentions(db, mention, limit=50)}
    assert {"x", "mastodon"} <= networks, "Priya's X and Mastodon posts show on her Bluesky mention"


def test_the_sources_page_lists_every_network(client, db):
    add_users(db)
    login(client, "sam")
    page = client.get("/sources").get_data(as_text=True)
    for platform, label in (
        ("x", "X"),
        ("reddit", "Reddit"),
        ("bluesky", "Bluesky"),
        ("mastodon", "Mastodon"),
    ):
        assert f'id="source-{platform}"' in page and f"<h2>{label}" in page
