"""The Bluesky collector: the atproto SDK's real Client against a fake XRPC service on loopback."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from browser_helpers import live_console
from fake_bluesky import HANDLE, FakeBluesky, fake_bluesky  # noqa: F401 - fake_bluesky is a fixture
from test_web import composer_form

import store
from collectors import CredentialsError, ReplyRestricted, bluesky, composer_url, replier_for
from collectors.run import collect_source

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"


def tuned(settings, api: FakeBluesky, brands: slice = slice(0, 1), **fields):
    """Settings pointing [sources.bluesky] at the fake, with only some brands."""
    source = dataclasses.replace(settings.sources.bluesky, api_base=api.url, **fields)
    return dataclasses.replace(settings, brands=settings.brands[brands],
                               sources=dataclasses.replace(settings.sources, bluesky=source))  # fmt: skip


@pytest.fixture
def api(fake_bluesky, monkeypatch):  # noqa: F811
    """The fake with the brand account, its login in the environment."""
    for name, value in fake_bluesky.env().items():
        monkeypatch.setenv(name, value)
    return fake_bluesky


def run(db, s):
    """One collection run of the Bluesky source, with short retry backoff."""
    return collect_source(db, s, "bluesky", collector=bluesky.build(s, backoff=0.01))


def stored(db) -> list[dict]:
    """Stored Bluesky mentions, oldest first."""
    return list(
        db.query("SELECT * FROM mentions WHERE platform = 'bluesky' ORDER BY created_at, external_id")
    )


# --- reading ------------------------------------------------------------------------------


def test_a_mention_is_stored_in_earshot_terms(db, settings, api):
    uri = api.add_post(f"@{HANDLE} my eSIM won't activate, see https://lumina.example/x", author="ana.bsky.social",
                       likes=4)  # fmt: skip
    result = run(db, tuned(settings, api))
    assert result.status == "ok" and result.tally.new == 1
    row = stored(db)[0]
    assert (
        row["external_id"] == uri
        and row["url"] == f"https://bsky.app/profile/ana.bsky.social/post/{uri.rsplit('/', 1)[1]}"
    )
    assert (row["author_handle"], row["author_reach"], row["like_count"]) == ("ana.bsky.social", 10, 4)
    assert row["mentions_brand_handle"] and row["reply_via_api"] and row["language"] == "en"
    assert row["conversation_id"] == uri and json.loads(row["raw"])["post"]["cid"]
    assert composer_url(row) == row["url"], "replying by hand opens the post on Bluesky"


def test_paging_across_two_runs_has_no_duplicates_and_no_gaps(db, settings, api):
    first = [
        api.add_post(f"Lumina Mobile outage report {i}", author=f"user{i % 4}.bsky.social") for i in range(25)
    ]
    s = tuned(settings, api, page_size=10)
    assert run(db, s).tally.new == 25
    calls = len(api.calls(SEARCH))
    later = [api.add_post(f"Lumina Mobile still down {i}") for i in range(3)]
    again = run(db, s)
    assert (again.tally.new, again.tally.updated) == (3, 0)
    searches = api.calls(SEARCH)[calls:]
    assert all("cursor" not in c["query"] for c in searches), "the second run stops at the high-water mark"
    rows = stored(db)
    assert len(rows) == 28 and {r["external_id"] for r in rows} == {*first, *later}


def test_a_run_killed_mid_sweep_resumes_from_its_cursor(db, settings, api):
    uris = [api.add_post(f"Lumina Mobile signal {i}") for i in range(35)]
    s = tuned(settings, api, page_size=10)
    col = bluesky.build(s, backoff=0.01)
    real, pages = col.fetch_page, []

    def dies_on_third_page(*args):
        if len(pages) == 2:
            raise KeyboardInterrupt  # as if the process were killed
        pages.append(args)
        return real(*args)

    col.fetch_page = dies_on_third_page
    with pytest.raises(KeyboardInterrupt):
        collect_source(db, s, "bluesky", collector=col)
    assert len(stored(db)) == 20
    newer = api.add_post("Lumina Mobile posted while we were down")
    result = run(db, s)
    assert (result.tally.new, result.tally.updated) == (16, 0), "pages already stored are not fetched again"
    assert {r["external_id"] for r in stored(db)} == {*uris, newer}
    assert [r["status"] for r in store.collector_runs(db, "bluesky")] == ["ok", "error"]


def test_notifications_bring_mentions_replies_and_quotes(db, settings, api):
    brand_post = api.add_post("We are looking into the outage", author=HANDLE)
    reply = api.add_post("still nothing here", author="ben.bsky.social", reply_to=brand_post)
    quote = api.add_post("this is not good enough", author="cleo.bsky.social", quote_of=brand_post)
    tagged = api.add_post(f"hey @{HANDLE} help", author="dev.bsky.social")
    run(db, tuned(settings, api))
    rows = {r["external_id"]: r for r in stored(db)}
    assert set(rows) == {reply, quote, tagged}, "the brand's own post is not a mention"
    assert rows[reply]["in_reply_to_brand"] and rows[reply]["in_reply_to_id"] == brand_post
    assert rows[reply]["conversation_id"] == brand_post
    assert rows[quote]["mentions_brand_handle"] and rows[tagged]["mentions_brand_handle"]
    assert api.calls(NOTIFICATIONS)[0]["query"]["reasons"] == ["mention", "reply", "quote"]


def test_401_is_a_clear_source_health_error(db, settings, api, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong")
    result = run(db, tuned(settings, api))
    assert result.status == "error" and "BLUESKY_APP_PASSWORD" in result.summary()
    run_row = store.collector_runs(db, "bluesky", limit=1)[0]
    assert run_row["status"] == "error" and "rejected the login (401" in run_row["error"]


def test_an_expired_access_token_is_refreshed(db, settings, api):
    api.add_post("Lumina Mobile one")
    api.access_ttl = 60  # inside the SDK's 15-minute margin: it refreshes before each call
    assert run(db, tuned(settings, api)).status == "ok"
    assert api.calls("/xrpc/com.atproto.server.refreshSession"), "the SDK refreshed the session"
    assert len(stored(db)) == 1


def test_an_access_token_refused_as_expired_logs_in_again(db, settings, api):
    api.add_post("Lumina Mobile one")
    s = tuned(settings, api)
    col = bluesky.build(s, backoff=0.01)
    col.login()
    api.expire_sessions()
    result = collect_source(db, s, "bluesky", collector=col)
    assert result.status == "ok" and result.tally.new == 1
    assert len(api.calls("/xrpc/com.atproto.server.createSession")) == 2


def test_a_revoked_app_password_is_a_clear_error(db, settings, api):
    s = tuned(settings, api)
    col = bluesky.build(s, backoff=0.01)
    col.login()
    api.revoke()
    result = collect_source(db, s, "bluesky", collector=col)
    assert result.status == "error" and "app password may have been revoked" in result.summary()


def test_429_records_the_reset_and_the_next_run_waits(db, settings, api):
    api.add_post("Lumina Mobile down")
    s = tuned(settings, api)
    api.fail("GET", SEARCH, 429)
    result = run(db, s)
    assert result.status == "rate_limited" and "Bluesky rate limit reached" in result.summary()
    reset = int(api.fail_headers(429)["ratelimit-reset"])
    assert store.collector_runs(db, "bluesky", limit=1)[0]["rate_limit_reset"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset))  # fmt: skip
    calls = len(api.requests)
    again = run(db, s)
    assert again.status == "skipped" and "waiting for the rate limit" in again.reason
    assert len(api.requests) == calls


@pytest.mark.parametrize("fault", ["503", "malformed"])
def test_server_errors_and_malformed_answers_are_retried(db, settings, api, fault):
    api.add_post("Lumina Mobile down")
    if fault == "503":
        api.fail("GET", SEARCH, 503)
    else:
        api.malformed("GET", SEARCH)
    result = run(db, tuned(settings, api))
    assert result.status == "ok" and result.tally.new == 1


@pytest.mark.parametrize("fault", ["503", "malformed"])
def test_persistent_faults_give_up_after_bounded_tries(db, settings, api, fault):
    api.add_post("Lumina Mobile down")
    if fault == "503":
        api.fail("GET", SEARCH, 503, times=3)
    else:
        api.malformed("GET", SEARCH, times=3)
    result = run(db, tuned(settings, api))
    assert result.status == "error" and "gave up after 3 tries" in result.summary()
    assert (
        "not JSON" in result.summary()
        if fault == "malformed"
        else "server or network error (503)" in result.summary()
    )


def test_missing_login_skips_the_source(db, settings):
    result = collect_source(db, settings, "bluesky")
    assert result.status == "skipped"
    assert result.reason == "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD are not set"
    assert replier_for(settings, "bluesky") is None


# --- replying -----------------------------------------------------------------------------


def collected(db, settings, api, text: str, **post) -> dict:
    """Post ``text`` on the fake, collect it, and return the stored mention."""
    uri = api.add_post(text, **post)
    run(db, tuned(settings, api))
    return store.get_mention(db, store.mention_id(db, "bluesky", uri))


def test_a_reply_carries_root_parent_and_link_facets(db, settings, api):
    top = api.add_post("Lumina Mobile: is the outage over?", author="eve.bsky.social")
    mention = collected(
        db, settings, api, f"@{HANDLE} still down for me", author="finn.bsky.social", reply_to=top
    )
    text = "Sorry! Status: https://lumina.example/status ✨"
    result = replier_for(tuned(settings, api), "bluesky").reply(mention, text)
    (made,) = api.created
    assert made["record"]["reply"]["root"]["uri"] == top, "the root is the thread's first post"
    assert made["record"]["reply"]["parent"]["uri"] == mention["external_id"]
    (facet,) = made["record"]["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end] == b"https://lumina.example/status"
    assert facet["features"][0]["uri"] == "https://lumina.example/status"
    assert result.external_id == made["uri"] and result.url.startswith(
        f"https://bsky.app/profile/{HANDLE}/post/"
    )


def test_a_thread_gate_refuses_the_reply_before_anything_is_posted(db, settings, api):
    mention = collected(db, settings, api, f"@{HANDLE} bad service", author="gail.bsky.social")
    api.gate(mention["external_id"])
    with pytest.raises(ReplyRestricted, match="thread gate"):
        replier_for(tuned(settings, api), "bluesky").reply(mention, "Sorry!")
    assert api.created == []


def test_a_gated_post_is_collected_as_not_replyable(db, settings, api):
    uri = api.add_post("Lumina Mobile never again", author="hal.bsky.social")
    api.gate(uri)
    run(db, tuned(settings, api))
    assert not stored(db)[0]["reply_via_api"]


def test_a_reply_with_a_revoked_password_is_a_credentials_error(db, settings, api):
    mention = collected(db, settings, api, f"@{HANDLE} hello", author="ivy.bsky.social")
    api.revoke()
    with pytest.raises(CredentialsError):
        replier_for(tuned(settings, api), "bluesky").reply(mention, "Hi")


# --- through the console ------------------------------------------------------------------


@pytest.fixture
def console(db, settings, api):
    """A logged-in agent on a non-demo console whose Bluesky source is the fake, and its settings."""
    s = tuned(settings, api)
    return live_console(db, s), s


def test_a_double_clicked_reply_posts_once(db, settings, api, console):
    client, s = console
    mention = collected(db, s, api, f"@{HANDLE} my bill is wrong", author="jo.bsky.social")
    form = {**composer_form(client, mention["id"]), "body": "Sorry Jo, DM us your account number."}
    first = client.post(f"/m/{mention['id']}/reply", data=form)
    second = client.post(f"/m/{mention['id']}/reply", data=form, follow_redirects=True)
    assert first.status_code == 302 and len(api.created) == 1
    assert "already submitted" in second.get_data(as_text=True)
    (reply,) = store.mention_replies(db, mention["id"])
    assert reply["status"] == "sent" and reply["external_id"] == api.created[0]["uri"]


def test_a_refused_reply_keeps_the_draft_and_offers_bluesky(db, settings, api, console):
    client, s = console
    mention = collected(db, s, api, f"@{HANDLE} awful", author="kim.bsky.social")
    api.gate(mention["external_id"])
    form = {**composer_form(client, mention["id"]), "body": "We hear you, Kim."}
    page = client.post(f"/m/{mention['id']}/reply", data=form, follow_redirects=True).get_data(as_text=True)
    assert "thread gate" in page and "We hear you, Kim." in page, "the draft is kept"
    assert "Open on Bluesky" in page and mention["url"] in page
    assert api.created == [] and store.mention_replies(db, mention["id"])[0]["status"] == "failed"


def test_the_composer_counts_to_300_for_bluesky(db, settings, api, console):
    client, s = console
    mention = collected(db, s, api, f"@{HANDLE} hi", author="lee.bsky.social")
    page = client.get(f"/m/{mention['id']}/reply").get_data(as_text=True)
    assert 'data-platform="bluesky" data-limit="300"' in page
    form = {**composer_form(client, mention["id"]), "body": "é" * 301}
    refused = client.post(f"/m/{mention['id']}/reply", data=form)
    assert refused.status_code == 422 and api.created == []
