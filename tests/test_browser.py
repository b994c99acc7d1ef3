"""The console in Debian's headless Chromium (Playwright), against a live server and the fake X API."""

from __future__ import annotations

import re
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
from conftest import write_config
from fakeapi import FakeAPI, config_replacements

import settings as settings_mod
import store
from web import create_app

pytestmark = pytest.mark.browser
DOCS = screenshot_folder()  # docs/ only under `make screenshots`
playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The fake X API, a seeded database and the console served on loopback, shared by the module."""
    tmp = tmp_path_factory.mktemp("browser")
    with FakeAPI() as api:
        replace = {**config_replacements(api), "refresh_seconds = 20": "refresh_seconds = 1"}
        settings = settings_mod.load(write_config(tmp, replace=replace))
        db = store.connect(settings.db_path)
        add_users(db)
        store.add_saved_reply(db, "Sorry", "Hi {author}, sorry about this! {agent} from {brand} will DM you.", "admin")
        app = create_app(settings, secret_key="browser-test-key", demo=False)
        with LiveServer(app) as server:
            yield {"api": api, "db": db, "settings": settings, "url": server.url}
        db.close()


@pytest.fixture(autouse=True)
def _reply_keys(monkeypatch):
    """X's reply keys for the fake API (conftest clears the environment before each test)."""
    for name, value in FakeAPI.env().items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def as_user(browser, world):
    """as_user('sam') -> a logged-in page in a fresh browser context; dialogs are recorded.

    Keyword arguments go to the context, e.g. java_script_enabled=False.
    """
    contexts = []

    def open_page(username: str, **options):
        size = {"width": 1280, "height": 860}
        context = browser.new_context(viewport=size, base_url=world["url"], **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
        return page

    yield open_page
    for context in contexts:
        context.close()


def tweet_mention(world, text: str, urgency: float, author: str = "casey", **fields) -> int:
    """A post on the fake X API that tags @LuminaHelp, stored as a mention; return its id."""
    api = world["api"]
    api.add_x_user("LuminaHelp", brand=True)
    tweet_id = api.add_tweet(text, author=author)
    return add_mention(world["db"], world["settings"], text, urgency=urgency, id=tweet_id, author=author, **fields)


def row_urgencies(page) -> list[float]:
    """The urgency column of the inbox, top to bottom."""
    return [float(t) for t in page.locator("tr.row .urgency").all_inner_texts() if t.strip() not in ("–", "")]


def seed_inbox(world) -> None:
    """A varied inbox, so the screenshot shows what the console is for."""
    settings, db = world["settings"], world["db"]
    tweet_mention(world, "@LuminaHelp my bill doubled this month and nobody answers. Refund please!", 87,
                  author="dana_k", author_followers=12_400, minutes_ago=95)
    tweet_mention(world, "@LuminaHelp signal keeps dropping in Leeds since Tuesday", 64, author="leeds_lad",
                  author_followers=830, minutes_ago=40)
    add_mention(db, settings, "Parcelo driver left my parcel in the rain again, soaked box", urgency=58,
                brand="Parcelo", platform="reddit", author="wet_parcel", author_followers=2_100, minutes_ago=12)
    add_mention(db, settings, "แบตเตอรี่เสื่อมเร็วมาก ใช้ได้ไม่ถึงครึ่งวัน @LuminaHelp", urgency=52,
                language="th", author="somchai", low_confidence=True, minutes_ago=20)
    spam = add_mention(db, settings, "Voltel just raised prices again, thinking of switching", urgency=33,
                       brand="Voltel", author="switcher", sentiment="neutral", minutes_ago=8)
    store.add_tag(db, [spam], "competitor", "sam")
    happy = tweet_mention(world, "Lumina Mobile upgrade was smooth, thanks team!", 12, author="happy_hana",
                          sentiment="positive", minutes_ago=3)
    store.assign(db, [happy], "alex", "admin")


def test_login_and_inbox_ordered_by_urgency(world, as_user):
    seed_inbox(world)
    page = as_user("sam")
    urgencies = row_urgencies(page)
    assert len(urgencies) >= 6 and urgencies == sorted(urgencies, reverse=True)
    assert page.locator(".status-tabs [aria-current]").inner_text().startswith("Active")
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "inbox.png"), full_page=False)


def test_filter_plus_search_including_thai(world, as_user):
    thai = add_mention(world["db"], world["settings"], "แบตเตอรี่เสื่อมเร็วมาก ช่วยด้วย", urgency=55,
                       language="th", author="somchai", brand="Parcelo", low_confidence=True)  # fmt: skip
    other = add_mention(world["db"], world["settings"], "แบตเตอรี่ดีมาก", urgency=20, language="th",
                        author="nok", brand="Lumina Mobile", sentiment="positive")  # fmt: skip
    page = as_user("sam")
    page.select_option("select[name=brand]", "Parcelo")
    page.fill("#search", "แบตเตอรี่")
    page.press("#search", "Enter")
    page.wait_for_url(re.compile(r"q="))
    ids = [int(i) for i in page.locator("tr.row").evaluate_all("rows => rows.map(r => r.dataset.id)")]
    assert ids == [thai] and other not in ids
    assert page.locator("tr.row .text").inner_text().startswith("แบตเตอรี่")
    page.fill("#search", "refund")
    page.select_option("select[name=brand]", "")
    page.press("#search", "Enter")
    page.wait_for_url(re.compile(r"q=refund"))
    assert "refund" in page.locator("tr.row .text").first.inner_text().lower()


def test_reply_with_saved_reply_is_posted_and_shown_as_sent(world, as_user):
    api = world["api"]
    mention_id = tweet_mention(world, "@LuminaHelp I was charged twice for March, please fix", 91,
                               author="dana_k", author_name="Dana")  # fmt: skip
    page = as_user("sam")
    page.goto(f"/m/{mention_id}")
    page.wait_for_selector("#mention-text")
    page.screenshot(path=str(DOCS / "mention.png"), full_page=False)
    page.keyboard.press("r")
    page.wait_for_url(re.compile(rf"/m/{mention_id}/reply"))
    page.wait_for_selector("#claim-form[data-claimed]")  # the claim the composer takes as it opens
    page.select_option("#saved-reply", label="Sorry")
    expected = "Hi Dana, sorry about this! Sam from Lumina Mobile will DM you."
    assert page.input_value("#reply-body") == expected
    assert page.inner_text("#preview") == expected
    assert page.inner_text("#counter") == str(len(expected))
    page.screenshot(path=str(DOCS / "composer.png"), full_page=False)
    page.click("#send-reply")
    page.wait_for_url(re.compile(rf"/m/{mention_id}$"))
    assert page.locator("[data-reply-status=sent]").count() == 1
    assert "Reply posted." in page.inner_text(".flashes")
    tweet_id = store.get_mention(world["db"], mention_id)["external_id"]
    assert [(r["in_reply_to"], r["text"]) for r in api.replies if r["in_reply_to"] == tweet_id] == [(tweet_id, expected)]


def test_failed_post_keeps_the_draft(world, as_user):
    api = world["api"]
    mention_id = tweet_mention(world, "@LuminaHelp no signal since the update", 70, author="rob")
    api.fail("POST", "/2/tweets", 503)
    page = as_user("alex")
    page.goto(f"/m/{mention_id}/reply")
    page.fill("#reply-body", "Sorry Rob, we are on it.")
    page.click("#send-reply")
    page.wait_for_url(re.compile(r"retry="))
    assert page.input_value("#reply-body") == "Sorry Rob, we are on it."
    assert "Not posted." in page.inner_text(".flashes")
    replies = store.mention_replies(world["db"], mention_id)
    assert [r["status"] for r in replies] == ["failed"] and replies[0]["error"]
    assert not [r for r in api.replies if r["text"] == "Sorry Rob, we are on it."]


def test_double_click_posts_once(world, as_user):
    api = world["api"]
    mention_id = tweet_mention(world, "@LuminaHelp where is my order", 60, author="lee")
    page = as_user("sam")
    page.goto(f"/m/{mention_id}/reply")
    page.fill("#reply-body", "Checking now, Lee.")
    page.dblclick("#send-reply")
    page.wait_for_url(re.compile(rf"/m/{mention_id}$"))
    # Two concurrent submits of the same form (the key is the guard, not the button).
    again = tweet_mention(world, "@LuminaHelp my parcel is lost", 58, author="lou")
    page.goto(f"/m/{again}/reply")
    page.fill("#reply-body", "Looking into it, Lou.")
    statuses = page.evaluate("""async () => {
        const form = document.getElementById('reply-form');
        const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)}).then(r => r.status);
        return Promise.all([send(), send()]);
    }""")
    assert statuses == [200, 200]
    for mid, text in ((mention_id, "Checking now, Lee."), (again, "Looking into it, Lou.")):
        target = store.get_mention(world["db"], mid)["external_id"]
        assert len([r for r in api.replies if r["in_reply_to"] == target]) == 1, text
        assert len(store.mention_replies(world["db"], mid)) == 1


def test_viewer_cannot_reply(world, as_user):
    mention_id = tweet_mention(world, "@LuminaHelp bill question", 40, author="viv")
    page = as_user("pat")
    page.goto(f"/m/{mention_id}")
    assert page.locator("#reply-link").count() == 0
    assert page.locator("form[action$='/status']").count() == 0
    page.keyboard.press("r")
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/m/{mention_id}")
    response = page.goto(f"/m/{mention_id}/reply")
    assert response.status == 403 and "Your role does not allow this." in page.content()


def test_keys_j_k_a_e_and_r(world, as_user):
    top = tweet_mention(world, "@LuminaHelp keyboard test one", 99, author="kb1")
    tweet_mention(world, "@LuminaHelp keyboard test two", 98, author="kb2")
    page = as_user("sam")
    rows = page.locator("tr.row")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert "selected" in rows.nth(1).get_attribute("class")
    page.keyboard.press("k")
    assert "selected" in rows.nth(0).get_attribute("class")
    assert "selected" not in rows.nth(1).get_attribute("class")
    first = rows.nth(0).get_attribute("data-id")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("?")
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelector('tr.row.selected .assignee').textContent === 'sam'")
    page.keyboard.press("e")
    page.wait_for_function("() => document.querySelector('tr.row.selected .status').textContent === 'resolved'")
    mention = store.get_mention(world["db"], top)
    assert (mention["assignee"], mention["status"]) == ("sam", "resolved")
    page.keyboard.press("r")
    page.wait_for_url(re.compile(rf"/m/{first}/reply"))
    assert int(first) == top


def test_new_mentions_appear_without_reload(world, as_user):
    page = as_user("sam")
    marker = page.evaluate("() => { window.stayed = true; return window.scrollY; }")
    add_mention(world["db"], world["settings"], "@LuminaHelp brand new complaint arrives", urgency=30, author="newbie")
    page.wait_for_selector("#new-banner:not([hidden])", timeout=8000)
    assert "brand new complaint arrives" in page.inner_text("#new-banner")
    assert page.evaluate("() => window.stayed") is True and marker == 0


def test_script_in_mention_text_renders_as_text(world, as_user):
    text = "Look <img src=x onerror=alert('xss')> and <script>alert(1)</script>"
    mention_id = add_mention(world["db"], world["settings"], text, urgency=97, author="mallory")
    page = as_user("sam")
    page.goto(f"/m/{mention_id}")
    assert page.inner_text("#mention-text") == text
    assert page.locator("#mention-text img").count() == 0
    page.goto("/")
    assert page.get_by_text("<img src=x onerror=alert('xss')>", exact=False).first.is_visible()
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_post_without_csrf_token_is_refused(world, as_user):
    mention_id = add_mention(world["db"], world["settings"], "csrf target", urgency=5, author="target")
    page = as_user("sam")
    response = page.request.post(f"/m/{mention_id}/status", form={"status": "resolved"})
    assert response.status == 400
    status = page.evaluate(f"""() => fetch('/m/{mention_id}/status', {{method: 'POST',
        headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: 'status=resolved'}}).then(r => r.status)""")
    assert status == 400
    assert store.get_mention(world["db"], mention_id)["status"] == "new"


def test_logout_ends_the_session_for_a_copied_cookie(world, as_user, browser):
    page = as_user("sam")
    copied = page.context.cookies()
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login$"))
    assert "Logged out." in page.inner_text(".flashes")
    thief = browser.new_context(base_url=world["url"])
    try:
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto("/")
        assert re.search(r"/login\?next=", stolen.url)
    finally:
        thief.close()


def test_opening_the_composer_claims_it_with_a_post(world, as_user):
    mention_id = tweet_mention(world, "@LuminaHelp claim me as you open", 44, author="claimer")
    page = as_user("sam")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(f"/m/{mention_id}/reply")
    page.wait_for_selector("#claim-form[data-claimed]")
    assert "You are replying" in page.inner_text("#claim-status")
    assert page.locator("#claim-button").count() == 0
    assert posts == [f"{world['url']}/m/{mention_id}/claim"]
    assert store.active_claim(world["db"], mention_id)["username"] == "sam"
    other = as_user("alex")
    other.goto(f"/m/{mention_id}/reply")
    assert "Sam is replying" in other.inner_text("#claim-warning")
    assert other.locator("#claim-form").count() == 0


def test_without_script_the_composer_claims_with_its_button(world, as_user):
    mention_id = tweet_mention(world, "@LuminaHelp claim me without script", 43, author="noscript")
    page = as_user("alex", java_script_enabled=False)
    page.goto(f"/m/{mention_id}/reply")
    assert store.active_claim(world["db"], mention_id) is None
    assert "Nobody is replying yet" in page.inner_text("#claim-status")
    page.click("#claim-button")
    page.wait_for_url(re.compile(rf"/m/{mention_id}/reply$"))
    assert "You are replying" in page.inner_text("#claim-status")
    assert store.active_claim(world["db"], mention_id)["username"] == "alex"


def test_js_counter_matches_python(world, as_user):
    from test_web import X_LENGTH_CASES

    from web import textcount

    mention_id = tweet_mention(world, "@LuminaHelp counter check", 3, author="counter")
    page = as_user("sam")
    page.goto(f"/m/{mention_id}/reply")
    texts = [text for text, _ in X_LENGTH_CASES]
    in_js = page.evaluate("texts => texts.map(t => window.EarshotText.weightedLength(t))", texts)
    assert in_js == [textcount.weighted_length(t) for t in texts]
    page.fill("#reply-body", "中" * 141)
    assert page.inner_text("#counter") == "282"
    assert "over" in page.get_attribute(".counter", "class")
