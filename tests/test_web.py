"""The console through Flask's test client: auth, roles, CSRF, escaping, the inbox, replies and workflow."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from datetime import UTC, datetime, timedelta

import pytest
from browser_helpers import PASSWORD, add_mention, add_users, ago, csrf_from, login
from conftest import data_version
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

import clock
import collectors
import store
import users
from web import auth, create_app, textcount
from web.auth import safe_next


@pytest.fixture
def staff(db):
    """The four standard accounts."""
    add_users(db)


@pytest.fixture
def agent(client, staff):
    """A client logged in as the agent sam."""
    assert login(client, "sam").status_code == 302
    return client


def token(client, url: str = "/") -> str:
    """The CSRF token from a page."""
    return csrf_from(client.get(url).get_data(as_text=True))


def composer_form(client, mention_id: int) -> dict:
    """The hidden fields of the composer form."""
    html = client.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    return {"csrf_token": csrf_from(html), "key": re.search(r'name="key" value="([^"]+)"', html).group(1)}


# --- Auth -----------------------------------------------------------------------------


def test_every_page_needs_a_login(client, staff):
    for url in ("/", "/m/1", "/sources", "/thanks", "/inbox/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_sets_a_hardened_session_cookie(client, staff):
    response = login(client, "sam")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Sam" in client.get("/").get_data(as_text=True)


def test_session_cookie_is_secure_over_https(client, staff):
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    response = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                           data={"username": "sam", "password": PASSWORD, "csrf_token": csrf_from(page)})  # fmt: skip
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("referer", [None, "https://evil.example/login", "http://localhost/login"])
def test_over_https_a_post_must_come_from_earshots_own_pages(client, staff, referer):
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    response = client.post("/login", base_url="https://localhost", headers={"Referer": referer} if referer else {},
                           data={"username": "sam", "password": PASSWORD, "csrf_token": csrf_from(page)})  # fmt: skip
    assert response.status_code == 400 and "referrer" in response.get_data(as_text=True)


def test_behind_a_trusted_proxy_the_forwarded_host_and_scheme_count(settings, db, staff):
    app = create_app(settings, secret_key="k", testing=True, trusted_proxies=1)
    client = app.test_client()
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "earshot.example", "X-Forwarded-For": "198.51.100.7"}
    page = client.get("/login", headers=proxy).get_data(as_text=True)
    response = client.post("/login", headers={**proxy, "Referer": "https://earshot.example/login"},
                           data={"username": "sam", "password": PASSWORD, "csrf_token": csrf_from(page)})  # fmt: skip
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_is_refused_and_throttled(client, settings, staff):
    limit = settings.console.max_failed_logins
    for _ in range(limit):
        assert login(client, "sam", "wrong-password!").status_code == 401
    response = login(client, "sam")
    assert response.status_code == 429
    assert "Too many failed logins" in response.get_data(as_text=True)


def test_one_address_guessing_many_accounts_is_throttled(client, app, settings, db, staff):
    cap = dataclasses.replace(settings.console, max_failed_logins_per_address=4)
    app.config["EARSHOT_SETTINGS"] = dataclasses.replace(settings, console=cap)
    for name in ("sam", "alex", "pat", "admin"):
        assert login(client, name, "Summer2026!").status_code == 401
    response = login(client, "sam")
    assert response.status_code == 429 and "Too many failed logins" in response.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert login(other, "sam").status_code == 302


def test_logout(agent):
    response = agent.post("/logout", data={"csrf_token": token(agent)})
    assert response.status_code == 302
    assert agent.get("/").status_code == 302


def test_a_password_reset_ends_existing_sessions(agent, client, db, app):
    assert agent.get("/").status_code == 200
    users.reset_password(db, "sam", "a-brand-new-password-9")
    response = agent.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login(app.test_client(), "sam", "a-brand-new-password-9").status_code == 302


def session_cookie(client) -> str:
    """The value of a client's session cookie."""
    return client.get_cookie("earshot_session").value


def with_cookie(app, value: str):
    """A new client (another browser) that presents a copied session cookie."""
    other = app.test_client()
    other.set_cookie("earshot_session", value)
    return other


def test_logout_ends_the_session_even_where_its_cookie_was_copied(agent, app):
    copied = session_cookie(agent)
    assert with_cookie(app, copied).get("/").status_code == 200
    assert agent.post("/logout", data={"csrf_token": token(agent)}).status_code == 302
    for url in ("/", "/inbox/new?since=0"):
        response = with_cookie(app, copied).get(url, headers={"Accept": "application/json"})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_logging_out_ends_only_that_session(app, staff):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "sam")
    login(phone, "sam")
    laptop.post("/logout", data={"csrf_token": token(laptop)})
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200


@pytest.mark.parametrize("ending", ["account disabled", "login too old"])
def test_a_live_session_ends_when(agent, db, ending):
    assert agent.get("/").status_code == 200
    if ending == "account disabled":
        store.update_user(db, "sam", disabled=1)
    else:
        clock.start_at(clock.now() + timedelta(days=auth.LOGIN_DAYS, minutes=1))
    response = agent.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_server_keeps_only_a_digest_of_the_session_token(agent, app, db):
    cookie = app.session_interface.get_signing_serializer(app).loads(session_cookie(agent))
    assert "stamp" not in cookie and cookie["_user_id"] not in ("sam", "2")
    stored = [row["id"] for row in db.query("SELECT id FROM login_sessions")]
    assert len(stored) == 1 and cookie["_user_id"] not in stored
    users.reset_password(db, "sam", "a-brand-new-password-9")
    assert list(db.query("SELECT id FROM login_sessions")) == []


def test_next_redirect_stays_on_site():
    assert safe_next("/m/3?x=1", "/") == "/m/3?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", None, "javascript:alert(1)"):
        assert safe_next(bad, "/") == "/"


# --- CSRF, headers, escaping -----------------------------------------------------------------


def test_post_without_csrf_token_is_refused(agent, db, settings):
    mention_id = add_mention(db, settings, "help")
    response = agent.post(f"/m/{mention_id}/status", data={"status": "resolved"})
    assert response.status_code == 400
    assert store.get_mention(db, mention_id)["status"] == "new"
    response = agent.post(f"/m/{mention_id}/status", data={"status": "resolved", "csrf_token": "forged"})
    assert response.status_code == 400


def test_csrf_and_sessions_are_flask_wtf_and_flask_login(app):
    assert isinstance(app.extensions["csrf"], CSRFProtect)
    assert isinstance(app.login_manager, LoginManager)
    assert importlib.util.find_spec("web.csrf") is None  # the hand-written check is gone


def test_fetch_sends_the_token_in_the_x_csrftoken_header(agent, db, settings):
    mention_id = add_mention(db, settings, "help")
    response = agent.post(f"/m/{mention_id}/assign", data={"assignee": "me"},
                          headers={"X-CSRFToken": token(agent), "Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200 and response.json["assignee"] == "sam"
    assert store.get_mention(db, mention_id)["assignee"] == "sam"


def post_urls(app) -> list[str]:
    """A URL for every route of the console that takes a POST."""
    adapter = app.url_map.bind("localhost")
    rules = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    return [adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1), method="POST") for rule in rules]


def test_every_post_route_refuses_a_missing_or_foreign_token(app, db, settings, staff):
    mention_id = add_mention(db, settings, "help")
    admin, other = app.test_client(), app.test_client()
    login(admin, "admin")
    login(other, "sam")
    foreign = token(other)
    urls = post_urls(app)
    expected = {"/login", "/logout", f"/m/{mention_id}/claim", f"/m/{mention_id}/status", "/inbox/bulk"}
    assert expected <= set(urls)
    for url in urls:
        for data, headers in (({}, {}), ({"csrf_token": foreign}, {}), ({}, {"X-CSRFToken": foreign}),
                              ({"csrf_token": "forged"}, {})):  # fmt: skip
            response = admin.post(url, data={"status": "resolved", **data}, headers=headers)
            assert response.status_code == 400, (url, data, headers)
            assert "did not come from Earshot" in response.get_data(as_text=True)
    assert admin.get("/").status_code == 200  # nothing ran, not even the logout
    assert store.get_mention(db, mention_id)["status"] == "new" and store.active_claim(db, mention_id) is None


def test_csrf_header_is_accepted_for_fetch(agent, db, settings):
    mention_id = add_mention(db, settings, "help")
    response = agent.post(f"/m/{mention_id}/status", data={"status": "resolved"},
                          headers={"X-CSRF-Token": token(agent), "Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200 and response.json["ok"]
    assert store.get_mention(db, mention_id)["status"] == "resolved"


def test_security_headers_and_no_inline_script(agent, db, settings):
    mention_id = add_mention(db, settings, "help")
    for url in ("/", f"/m/{mention_id}", f"/m/{mention_id}/reply", "/sources", "/thanks"):
        response = agent.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"<[^>]+\s(style|on\w+)=", html), url


XSS = '<img src=x onerror="alert(1)"> <script>alert(2)</script>'


@pytest.mark.parametrize("url", ["/", "/m/{id}", "/m/{id}/reply", "/thanks"])
def test_mention_text_is_escaped(agent, db, settings, url):
    mention_id = add_mention(db, settings, "Bad " + XSS, author="mallory", sentiment="positive")
    html = agent.get(url.format(id=mention_id)).get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert" not in html
    if url != "/thanks":
        assert "&lt;img src=x onerror=" in html


@pytest.mark.parametrize("url", ["/", "/m/{id}", "/m/{id}/reply"])
def test_rtl_and_bidi_text_is_isolated(agent, db, settings, url):
    text = "\u202e" + "שלום ما زال الإنترنت مقطوعا " + "ไทย 😀 " * 1400  # a right-to-left override, 10,000+ chars
    mention_id = add_mention(db, settings, text, author="rtl")
    html = agent.get(url.format(id=mention_id)).get_data(as_text=True)
    assert re.search(r'<(a|p) [^>]*dir="auto"[^>]*>\u202eשלום', html)


def test_malformed_ids_are_refused_not_crashed(agent, db, settings):
    mention_id = add_mention(db, settings, "help")
    huge = "9" * 30
    assert agent.get(f"/m/{huge}").status_code == 404
    assert agent.get(f"/?page={huge}").status_code == 200
    assert agent.get(f"/inbox/new?since={huge}").status_code == 200
    assert agent.get(f"/m/{mention_id}/reply?retry=\u00b2").status_code == 200
    response = agent.post("/inbox/bulk", data={"ids": ["\u00b2", huge], "action": "resolve", "csrf_token": token(agent)})
    assert response.status_code == 302 and store.get_mention(db, mention_id)["status"] == "new"


def test_javascript_urls_never_become_links(agent, db, settings):
    mention_id = add_mention(db, settings, "hello", url="javascript:alert(1)")
    assert "javascript:" not in agent.get(f"/m/{mention_id}").get_data(as_text=True)


# --- Roles -----------------------------------------------------------------------------


def test_viewer_reads_but_cannot_change_anything(client, db, settings, staff):
    mention_id = add_mention(db, settings, "help")
    login(client, "pat")
    page = client.get(f"/m/{mention_id}").get_data(as_text=True)
    assert "help" in page and f"/m/{mention_id}/reply" not in page
    assert client.get(f"/m/{mention_id}/reply").status_code == 403
    csrf = token(client)
    for url, data in ((f"/m/{mention_id}/status", {"status": "resolved"}),
                      (f"/m/{mention_id}/claim", {}),
                      (f"/m/{mention_id}/reply", {"body": "hi", "key": "k1"}),
                      (f"/m/{mention_id}/notes", {"body": "x"}),
                      ("/inbox/bulk", {"ids": str(mention_id), "action": "resolve"})):  # fmt: skip
        assert client.post(url, data={**data, "csrf_token": csrf}).status_code == 403
    assert store.get_mention(db, mention_id)["status"] == "new"
    assert store.mention_replies(db, mention_id) == [] and store.active_claim(db, mention_id) is None
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302


def test_only_admins_manage_saved_replies(client, db, staff):
    login(client, "sam")
    assert client.get("/saved-replies").status_code == 403
    client.post("/logout", data={"csrf_token": token(client)})
    login(client, "admin")
    client.post("/saved-replies", data={"name": "Sorry", "body": "Sorry {author}! {agent} at {brand}",
                                        "csrf_token": token(client)})  # fmt: skip
    assert [s["name"] for s in store.saved_replies(db)] == ["Sorry"]


# --- Inbox -----------------------------------------------------------------------------


def test_inbox_is_ranked_by_urgency_with_counts(agent, db, settings):
    low = add_mention(db, settings, "low one", urgency=10)
    high = add_mention(db, settings, "high one", urgency=90)
    mid = add_mention(db, settings, "mid one", urgency=50)
    html = agent.get("/").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'<tr class="row" data-id="(\d+)"', html)]
    assert order == [high, mid, low]
    assert re.search(r"Active <span class=\"count\">3</span>", html)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("brand=Parcelo", {"parcel"}),
        ("sentiment=positive", {"happy"}),
        ("language=th", {"thai"}),
        ("q=แบตเตอรี่", {"thai"}),
        ("q=refund", {"parcel"}),
        ("q=ok", {"happy"}),
        ("tag=vip", {"happy"}),
        ("assignee=me", {"parcel"}),
        ("assignee=none&sentiment=negative", {"thai"}),
        ("since=2000-01-01&until=2000-01-02", set()),
        ("status=resolved", set()),
    ],
)
def test_inbox_filters_and_search(agent, db, settings, query, expected):
    ids = {
        "parcel": add_mention(db, settings, "Where is my refund", brand="Parcelo"),
        "happy": add_mention(db, settings, "All ok now, thanks", sentiment="positive"),
        "thai": add_mention(db, settings, "แบตเตอรี่เสื่อมเร็วมาก", language="th", author="somchai"),
    }
    store.add_tag(db, [ids["happy"]], "vip", "sam")
    store.assign(db, [ids["parcel"]], "sam", "sam")
    html = agent.get("/?" + query).get_data(as_text=True)
    shown = {int(i) for i in re.findall(r'data-id="(\d+)"', html)}
    assert shown == {ids[name] for name in expected}


def test_common_search_ranks_a_window_of_newest_matches(agent, db, settings, monkeypatch):
    for where in (store, store.inbox):  # the page's wording and the query's window
        monkeypatch.setattr(where, "SEARCH_WINDOW", 2)
    oldest = add_mention(db, settings, "refund please", urgency=99, author="a1")
    newer = [add_mention(db, settings, f"refund now {n}", urgency=10 + n, author=f"a{n + 2}") for n in range(2)]
    html = agent.get("/?q=refund").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'data-id="(\d+)"', html)]
    assert shown == newer[::-1] and oldest not in shown
    assert "ranks the 2 newest matches" in html and 'New <span class="count">2+' in html


def test_new_mentions_endpoint_with_a_search(agent, db, settings):
    first = add_mention(db, settings, "old refund")
    add_mention(db, settings, "unrelated")
    match = add_mention(db, settings, "another refund")
    data = agent.get(f"/inbox/new?since={first}&q=refund").json
    assert [m["id"] for m in data["mentions"]] == [match]


def test_bad_date_filter_is_explained(agent, db, settings):
    add_mention(db, settings, "x")
    assert "should be a date" in agent.get("/?since=yesterday").get_data(as_text=True)


def test_paging(agent, db, settings):
    for n in range(5):
        add_mention(db, settings, f"mention {n}", urgency=n)
    small = dataclasses.replace(settings, console=dataclasses.replace(settings.console, page_size=2))
    client = create_app(small, secret_key="k", testing=True).test_client()
    login(client, "sam")
    page2 = client.get("/?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-id="\d+"', page2)) == 2 and 'rel="next"' in page2 and 'rel="prev"' in page2
    page3 = client.get("/?page=3").get_data(as_text=True)
    assert len(re.findall(r'data-id="\d+"', page3)) == 1 and 'rel="next"' not in page3


def test_new_mentions_endpoint_reports_only_newer_matching_ones(agent, db, settings):
    first = add_mention(db, settings, "old one")
    add_mention(db, settings, "new Parcelo one", brand="Parcelo")
    newest = add_mention(db, settings, "new Lumina one <b>")
    data = agent.get(f"/inbox/new?since={first}&brand=Lumina+Mobile").json
    assert data["count"] == 1 and data["newest_id"] == newest
    assert data["mentions"][0]["text"] == "new Lumina one <b>"


def test_bulk_actions(agent, db, settings):
    a, b = add_mention(db, settings, "a"), add_mention(db, settings, "b")
    csrf = token(agent)
    for data in ({"action": "tag", "tag": " Billing "}, {"action": "assign", "assignee": "alex"},
                 {"action": "resolve"}):  # fmt: skip
        response = agent.post("/inbox/bulk", data={"ids": [str(a), str(b)], "csrf_token": csrf, **data})
        assert response.status_code == 302
    for mention_id in (a, b):
        mention = store.get_mention(db, mention_id)
        assert (mention["status"], mention["assignee"]) == ("resolved", "alex")
        assert store.mention_tags(db, mention_id) == ["billing"]
    agent.post("/inbox/bulk", data={"ids": [str(a)], "action": "ignore", "csrf_token": csrf})
    assert store.get_mention(db, a)["status"] == "ignored"


def test_assign_to_unknown_user_is_explained(agent, db, settings):
    a = add_mention(db, settings, "a")
    response = agent.post("/inbox/bulk", data={"ids": [str(a)], "action": "assign", "assignee": "ghost",
                                               "csrf_token": token(agent)}, follow_redirects=True)  # fmt: skip
    assert "no active user named" in response.get_data(as_text=True)


# --- Mention view ------------------------------------------------------------------------


def test_mention_view_shows_author_thread_urgency_and_low_confidence(agent, db, settings):
    earlier = add_mention(db, settings, "first problem", author="kim", minutes_ago=600, conversation_id="c1")
    reply, _ = store.start_reply(db, earlier, "key-earlier", "sam", "We fixed it")
    store.finish_reply(db, reply["id"], "sent", "sam")
    mention_id = add_mention(db, settings, "ยังใช้ไม่ได้อีกแล้ว", author="kim", language="th",
                             low_confidence=True, conversation_id="c1")  # fmt: skip
    html = agent.get(f"/m/{mention_id}").get_data(as_text=True)
    assert "Returning customer" in html
    assert "first problem" in html and "We fixed it" in html
    assert "negativity" in html and "Low confidence" in html and "billing" in html


def test_tags_notes_corrections_and_audit(agent, db, settings):
    mention_id = add_mention(db, settings, "x")
    csrf = token(agent)
    agent.post(f"/m/{mention_id}/tags", data={"tag": "VIP", "csrf_token": csrf})
    agent.post(f"/m/{mention_id}/notes", data={"body": "Called them <b>", "csrf_token": csrf})
    agent.post(f"/m/{mention_id}/correct", data={"field": "sentiment", "value": "neutral", "csrf_token": csrf})
    agent.post(f"/m/{mention_id}/correct", data={"field": "urgent", "value": "true", "csrf_token": csrf})
    agent.post(f"/m/{mention_id}/correct", data={"field": "urgent", "value": "bogus", "csrf_token": csrf})
    assert store.mention_tags(db, mention_id) == ["vip"]
    assert [n["body"] for n in store.mention_notes(db, mention_id)] == ["Called them <b>"]
    assert {(c["field"], c["value"]) for c in store.mention_corrections(db, mention_id)} == {
        ("sentiment", "neutral"), ("urgent", "true")}
    actions = [a["action"] for a in store.mention_audit(db, mention_id)]
    assert {"tag.add", "note", "correct"} <= set(actions)
    agent.post(f"/m/{mention_id}/tags/remove", data={"tag": "vip", "csrf_token": csrf})
    assert store.mention_tags(db, mention_id) == []
    html = agent.get(f"/m/{mention_id}").get_data(as_text=True)
    assert "Called them &lt;b&gt;" in html


def test_unknown_mention_is_404(agent):
    assert agent.get("/m/999").status_code == 404


# --- Replies ------------------------------------------------------------------------------


def test_demo_reply_is_recorded_locally_once(agent, db, settings, monkeypatch):
    monkeypatch.setattr(collectors, "replier_for", lambda *a: pytest.fail("demo mode must not post"))
    mention_id = add_mention(db, settings, "@LuminaHelp help", minutes_ago=10)
    form = composer_form(agent, mention_id)
    for _ in range(2):  # a double submit with the same idempotency key
        response = agent.post(f"/m/{mention_id}/reply", data={**form, "body": "On it!"})
        assert response.status_code == 302
    replies = store.mention_replies(db, mention_id)
    assert [(r["status"], r["body"]) for r in replies] == [("demo", "On it!")]
    mention = store.get_mention(db, mention_id)
    assert mention["first_response_at"] and mention["status"] == "waiting"
    assert store.active_claim(db, mention_id) is None


def test_second_public_reply_needs_override(agent, db, settings):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    agent.post(f"/m/{mention_id}/reply", data={**composer_form(agent, mention_id), "body": "One"})
    form = composer_form(agent, mention_id)
    response = agent.post(f"/m/{mention_id}/reply", data={**form, "body": "Two"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "already replied" in html and ">Two</textarea>" in html
    agent.post(f"/m/{mention_id}/reply", data={**form, "body": "Two", "override": "1"})
    assert [r["body"] for r in store.mention_replies(db, mention_id)] == ["One", "Two"]


def test_claims_show_who_is_replying_and_block_others(client, db, settings, staff):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    login(client, "sam")
    claim_token = composer_form(client, mention_id)["csrf_token"]
    client.post(f"/m/{mention_id}/claim", data={"csrf_token": claim_token})
    client.post("/logout", data={"csrf_token": token(client)})
    login(client, "alex")
    assert "Sam is replying" in client.get("/").get_data(as_text=True)
    form = composer_form(client, mention_id)
    assert "Sam is replying" in client.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    response = client.post(f"/m/{mention_id}/reply", data={**form, "body": "Hi"})
    assert response.status_code == 422 and store.mention_replies(db, mention_id) == []
    client.post(f"/m/{mention_id}/reply", data={**form, "body": "Hi", "override": "1"})
    assert len(store.mention_replies(db, mention_id)) == 1


def test_opening_the_composer_changes_nothing(agent, db, settings):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    version = data_version(db)
    for url in (f"/m/{mention_id}/reply", f"/m/{mention_id}", "/", f"/m/{mention_id}/reply?retry=1"):
        assert agent.get(url).status_code == 200
    assert data_version(db) == version  # no other connection wrote
    assert store.active_claim(db, mention_id) is None


def test_without_script_the_composer_offers_the_claim_as_a_form(agent, db, settings):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    html = agent.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    assert f'action="/m/{mention_id}/claim"' in html and "Claim it" in html
    assert "Nobody is replying yet" in html
    response = agent.post(f"/m/{mention_id}/claim", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/m/{mention_id}/reply")
    assert store.active_claim(db, mention_id)["username"] == "sam"
    html = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are replying" in html and "Claim it" not in html


def test_claiming_by_fetch_answers_json_and_never_takes_anothers_claim(client, db, settings, staff):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    fetch = {"Accept": "application/json"}
    login(client, "sam")
    answer = client.post(f"/m/{mention_id}/claim", headers={**fetch, "X-CSRFToken": token(client)}).json
    assert answer["claimed"] is True and "You are replying" in answer["message"]
    client.post("/logout", data={"csrf_token": token(client)})
    login(client, "alex")
    answer = client.post(f"/m/{mention_id}/claim", headers={**fetch, "X-CSRFToken": token(client)}).json
    assert answer["claimed"] is False and answer["message"] == "Sam is already replying to this mention."
    assert store.active_claim(db, mention_id)["username"] == "sam"


def test_claims_expire(db, settings, staff):
    mention_id = add_mention(db, settings, "x")
    store.claim_mention(db, mention_id, "sam", minutes=-1)
    assert store.active_claim(db, mention_id) is None
    assert store.claim_mention(db, mention_id, "alex", 10)["username"] == "alex"
    assert store.claim_mention(db, mention_id, "sam", 10)["username"] == "alex"


class FakeReplier:
    """Stands in for a collector: records posts or raises the given error."""

    def __init__(self, error=None):
        self.error, self.posts = error, []

    def reply(self, mention, text):
        if self.error:
            raise self.error
        self.posts.append((mention["external_id"], text))
        return collectors.ReplyResult("999", "https://x.com/i/web/status/999")


@pytest.fixture
def live_app(settings, db, staff, monkeypatch):
    """A non-demo app whose X replier is a FakeReplier."""
    replier = FakeReplier()
    monkeypatch.setattr(collectors, "replier_for", lambda s, platform: replier)
    app = create_app(settings, secret_key="k", demo=False, testing=True)
    client = app.test_client()
    login(client, "sam")
    return client, replier


def test_live_reply_is_sent_through_the_collector(live_app, db, settings):
    client, replier = live_app
    mention_id = add_mention(db, settings, "@LuminaHelp help", id="1234")
    response = client.post(f"/m/{mention_id}/reply", data={**composer_form(client, mention_id), "body": "Hi"})
    assert response.headers["Location"].endswith(f"/m/{mention_id}")
    assert replier.posts == [("1234", "Hi")]
    reply = store.mention_replies(db, mention_id)[0]
    assert (reply["status"], reply["external_id"]) == ("sent", "999")


@pytest.mark.parametrize(
    "error, words",
    [
        (collectors.ReplyRestricted("X refused (403)."), "Reply on X instead"),
        (collectors.RateLimited("Too many requests.", datetime(2030, 1, 1, 14, 5, tzinfo=UTC)), "14:05 UTC"),
        (collectors.CredentialsError("401 Unauthorized."), "check the API keys"),
        (collectors.PlatformError("X is over capacity."), "X is over capacity."),
    ],
)
def test_failed_reply_keeps_the_draft_and_explains(live_app, db, settings, error, words):
    client, replier = live_app
    replier.error = error
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    response = client.post(f"/m/{mention_id}/reply", data={**composer_form(client, mention_id), "body": "Draft!"})
    assert "retry=" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert words in html and ">Draft!</textarea>" in html
    assert store.mention_replies(db, mention_id)[0]["status"] == "failed"
    assert store.get_mention(db, mention_id)["first_response_at"] is None
    replier.error = None
    client.post(f"/m/{mention_id}/reply", data={**composer_form(client, mention_id), "body": "Draft!"})
    assert [r["status"] for r in store.mention_replies(db, mention_id)] == ["failed", "sent"]


@pytest.mark.parametrize("fields", [{"brand": "Voltel"}, {"text": "no handle here"}])
def test_when_the_api_cannot_reply_offer_the_platform_and_mark_replied(live_app, db, settings, fields):
    client, replier = live_app
    mention_id = add_mention(db, settings, **{"text": "help", **fields}, id="555")
    html = client.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    assert "https://x.com/intent/post?in_reply_to=555" in html and "Mark replied" in html
    response = client.post(f"/m/{mention_id}/reply", data={**composer_form(client, mention_id), "body": "Hi"})
    assert response.status_code == 422 and replier.posts == []
    client.post(f"/m/{mention_id}/replied", data={"csrf_token": token(client)})
    assert [r["status"] for r in store.mention_replies(db, mention_id)] == ["manual"]
    assert store.get_mention(db, mention_id)["first_response_at"]


def test_no_credentials_means_reply_on_the_platform(settings, db, staff, monkeypatch):
    monkeypatch.setattr(collectors, "replier_for", lambda s, platform: None)
    client = create_app(settings, secret_key="k", demo=False, testing=True).test_client()
    login(client, "sam")
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    assert "No X reply credentials" in client.get(f"/m/{mention_id}/reply").get_data(as_text=True)


def test_too_long_reply_is_refused_with_the_draft(agent, db, settings):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    body = "中" * 141
    response = agent.post(f"/m/{mention_id}/reply", data={**composer_form(agent, mention_id), "body": body})
    assert response.status_code == 422 and "282 characters" in response.get_data(as_text=True)


def test_saved_replies_are_filled_in(agent, db, settings):
    store.add_saved_reply(db, "Sorry", "Sorry {author}, {agent} from {brand} here.", "admin")
    mention_id = add_mention(db, settings, "@LuminaHelp help", author_name="Kim Lee")
    html = agent.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    assert 'data-body="Sorry Kim Lee, Sam from Lumina Mobile here."' in html


# --- Other screens -------------------------------------------------------------------------


def test_thank_them_lists_positive_mentions_from_returning_customers(agent, db, settings):
    earlier = add_mention(db, settings, "broken", author="kim", minutes_ago=900)
    reply, _ = store.start_reply(db, earlier, "k-1", "sam", "Fixed")
    store.finish_reply(db, reply["id"], "sent", "sam")
    happy = add_mention(db, settings, "Thank you, works great", author="kim", sentiment="positive")
    add_mention(db, settings, "Love it", author="stranger", sentiment="positive")
    html = agent.get("/thanks").get_data(as_text=True)
    assert "Thank you, works great" in html and "Love it" not in html
    assert f"/m/{happy}/reply" in html


def test_sources_page_shows_runs_and_next_run(agent, db):
    run = store.start_collector_run(db, "x")
    store.finish_collector_run(db, run, status="rate_limited", new=12, updated=3, pages=2,
                               rate_limit_remaining=0, rate_limit_reset=ago(-30), error="X rate limit used up")  # fmt: skip
    html = agent.get("/sources").get_data(as_text=True)
    assert "12 new, 3 updated, 2 pages" in html and "X rate limit used up" in html
    assert "0 requests left" in html and "Next run" in html


# --- Text counting ---------------------------------------------------------------------------


X_LENGTH_CASES = [
        ("hello", 5),
        ("a" * 280, 280),
        ("see https://example.com/a/very/long/path?with=query", 4 + 23),
        ("www.example.com and lumina.com", 23 + 5 + 23),
        ("😀", 2),
        ("👍🏽", 2),
        ("👩‍👩‍👧", 2),
        ("🇹🇭", 2),
        ("1️⃣", 2),
        ("❤️", 2),
        ("中文", 4),
        ("日本語のテキスト", 16),
        ("สวัสดีครับ", 10),
        ("café", 4),
        ("cafe\u0301", 4),
        ("“quotes” — dash", 15),
]


@pytest.mark.parametrize("text, weight", X_LENGTH_CASES)
def test_x_weighted_length(text, weight):
    assert textcount.weighted_length(text) == weight


def test_platform_limits():
    assert textcount.limit("x") == 280 and textcount.limit("reddit") == 10_000
    assert textcount.length("中" * 140, "x") == 280
    assert textcount.length("中" * 140, "reddit") == 140


def test_sla_colours(agent, db, settings):
    fresh = add_mention(db, settings, "fresh", minutes_ago=5)
    late = add_mention(db, settings, "late", minutes_ago=settings.sla.target_minutes + 5)
    html = agent.get("/").get_data(as_text=True)
    assert re.search(rf'data-id="{fresh}".*?sla-ok', html, re.S)
    assert re.search(rf'data-id="{late}".*?sla-late', html, re.S)


def test_concurrent_submits_of_one_form_post_once(db, settings, staff):
    mention_id = add_mention(db, settings, "@LuminaHelp help")
    first, created = store.start_reply(db, mention_id, "same-key", "sam", "Hi")
    assert created
    again, created = store.start_reply(db, mention_id, "same-key", "sam", "Hi")
    assert (again["id"], created) == (first["id"], False)
    with pytest.raises(store.ReplyConflict):
        store.start_reply(db, mention_id, "other-key", "alex", "Hello")
