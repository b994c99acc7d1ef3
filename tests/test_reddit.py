"""The Reddit collector: praw's real code against recorded-shape listings (responses) and the fake API."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest
import responses
from fakeapi import REDDIT_USER, FakeAPI, fake_api  # noqa: F401 - fake_api is a fixture

import clock
import store
from collectors import CredentialsError, PlatformError, RateLimited, reddit, replier_for
from collectors.run import collect_source

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
TOKEN = "https://www.reddit.com/api/v1/access_token"
OAUTH = "https://oauth.reddit.com"


def fixture(name: str) -> dict:
    """A recorded-shape Reddit payload from tests/fixtures/reddit."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def tuned(settings, brands: slice = slice(0, 1), subreddits: tuple[str, ...] | None = None, **fields):
    """Settings with some brands (optionally other subreddits) and changed [sources.reddit] fields."""
    brands_ = settings.brands[brands]
    if subreddits:
        brands_ = tuple(dataclasses.replace(b, reddit=dataclasses.replace(b.reddit, subreddits=subreddits)) for b in brands_)
    sources = dataclasses.replace(settings.sources, reddit=dataclasses.replace(settings.sources.reddit, **fields))
    return dataclasses.replace(settings, brands=brands_, sources=sources)


@pytest.fixture
def reddit_env(monkeypatch):
    """App and user credentials the fake API accepts."""
    for name, value in FakeAPI.env().items():
        if name.startswith("REDDIT_"):
            monkeypatch.setenv(name, value)


@pytest.fixture
def api(fake_api, reddit_env):  # noqa: F811
    """The fake API, with credentials in the environment."""
    return fake_api


def on_fake(settings, api, **kwargs):
    """Settings pointing praw at the fake API."""
    return tuned(settings, oauth_url=api.url, reddit_url=api.url, **kwargs)


def rows(db) -> dict[str, dict]:
    """Stored Reddit mentions by fullname."""
    return {r["external_id"]: r for r in db.query("SELECT * FROM mentions WHERE platform = 'reddit'")}


# --- normalizing ------------------------------------------------------------------------


def test_to_mention_submission_and_comment(settings):
    brand = settings.brands[0]
    esim, roaming = (c["data"] for c in fixture("search_page1.json")["data"]["children"])
    post = reddit.to_mention("t3", esim, brand, "q", reach=4600, can_post=True)
    assert post["text"] == "Lumina Mobile eSIM stuck on 'activating'\n\nThree days now. Support says wait. Anyone fixed this?"
    assert post["url"] == "https://www.reddit.com/r/smartphones/comments/1c2d/lumina_mobile_esim_stuck_on_activating/"
    assert (post["external_id"], post["author_handle"], post["author_reach"]) == ("t3_1c2d", "kettle_blue", 4600)
    assert (post["like_count"], post["reply_count"], post["thread_id"]) == (14, 6, "t3_1c2d")
    assert post["created_at"] == "2026-03-02T10:00:00Z" and post["language"] == "en"
    assert post["reply_via_api"] and not post["mentions_brand_handle"]
    locked = reddit.to_mention("t3", roaming, brand, "q", reach=0, can_post=True)
    assert locked["author_handle"] is None and locked["author_id"] is None and locked["like_count"] == 0
    assert not locked["reply_via_api"], "a locked thread takes no replies"
    assert not reddit.to_mention("t3", esim, brand, "q", reach=0, can_post=False)["reply_via_api"]
    comment = fixture("inbox_mentions.json")["data"]["children"][0]["data"]
    row = reddit.to_mention("t1", comment, brand, "inbox", reach=500, can_post=True, via_inbox=True)
    assert row["in_reply_to_id"] == "t3_1c2d" and row["conversation_id"] == "t3_1c2d"
    assert row["url"].endswith("/k77q/") and row["mentions_brand_handle"]


@pytest.mark.parametrize(
    ("agent", "ok"),
    [
        ("linux:earshot:1.0 (by /u/someone)", True),
        ("web:com.example.earshot:v2.3.1 (by /u/Some_One-2)", True),
        ("earshot 1.0", False),
        ("linux:earshot:1.0", False),
        ("python-requests/2.31", False),
    ],
)
def test_user_agent_shape(agent, ok):
    if ok:
        reddit.check_user_agent(agent)
    else:
        with pytest.raises(CredentialsError, match="must look like"):
            reddit.check_user_agent(agent)


def test_bad_user_agent_fails_the_source_with_a_clear_message(settings, db, reddit_env, monkeypatch):
    monkeypatch.setenv("REDDIT_USER_AGENT", "my bot")
    result = collect_source(db, settings, "reddit")
    assert result.status == "error" and "REDDIT_USER_AGENT must look like" in result.summary()
    assert replier_for(settings, "reddit") is None


def test_missing_credentials_disable_the_source(settings, db, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "id")
    result = collect_source(db, settings, "reddit")
    assert result.summary() == "reddit: skipped (REDDIT_CLIENT_SECRET and REDDIT_USER_AGENT are not set)"
    assert replier_for(settings, "reddit") is None


def test_ratelimit_message_parsing():
    assert reddit.ratelimit_seconds("Take a break for 9 minutes before trying again.") == 540
    assert reddit.ratelimit_seconds("try again in 30 seconds") == 30
    assert reddit.ratelimit_seconds("no number") == reddit.DEFAULT_RESET_SECONDS


# --- recorded listings through praw (responses) ---------------------------------------------


@responses.activate
def test_listing_with_after_is_followed(settings, db, reddit_env, monkeypatch):
    monkeypatch.delenv("REDDIT_USERNAME")  # read-only: app credentials only
    responses.post(TOKEN, json=fixture("token.json"))
    responses.get(f"{OAUTH}/r/all/search", json=fixture("search_page1.json"))
    responses.get(f"{OAUTH}/r/all/search", json=fixture("search_page2.json"))
    responses.get(f"{OAUTH}/api/user_data_by_account_ids", json=fixture("user_data.json"))
    s = dataclasses.replace(tuned(settings), brands=(dataclasses.replace(settings.brands[0], reddit=dataclasses.replace(
        settings.brands[0].reddit, terms=("Lumina Mobile",))),))  # fmt: skip
    result = collect_source(db, s, "reddit")
    assert result.status == "ok" and result.tally.new == 3 and result.tally.pages == 2
    searches = [c.request for c in responses.calls if "/search" in c.request.url]
    assert "after=t3_1c2b" in searches[1].url and "sort=new" in searches[0].url
    assert "q=%22Lumina+Mobile%22" in searches[0].url
    stored = rows(db)
    assert stored["t3_1c2d"]["author_reach"] == 4600 and stored["t3_1c29"]["author_reach"] == 22
    assert not stored["t3_1c2d"]["reply_via_api"], "no user credentials: replies go through Reddit itself"
    agent = responses.calls[0].request.headers["User-Agent"]
    assert agent.startswith("linux:earshot-tests:1.0 (by /u/LuminaMobile_Official)")


@responses.activate
def test_malformed_listing_items_are_logged_and_never_stop_the_page(settings, db, reddit_env, monkeypatch, caplog):
    monkeypatch.delenv("REDDIT_USERNAME")
    page = fixture("search_page2.json")
    page["data"]["children"] += [{"kind": "t3", "data": {"name": "t3_bad1", "title": 5, "created_utc": 1}},
                                 {"kind": "t3", "data": {"name": "t3_bad2", "title": "x", "score": float("inf"),
                                                         "created_utc": 1}}]  # fmt: skip
    responses.post(TOKEN, json=fixture("token.json"))
    responses.get(f"{OAUTH}/r/all/search", json=page)
    responses.get(f"{OAUTH}/api/user_data_by_account_ids", json=fixture("user_data.json"))
    with caplog.at_level(logging.WARNING):
        result = collect_source(db, tuned(settings), "reddit")
    assert result.status == "ok" and result.tally.new == len(page["data"]["children"]) - 2
    assert "t3_bad1" not in rows(db) and "skipped item t3_bad1 with malformed fields" in caplog.text


@responses.activate
def test_reply_ratelimit_carries_its_retry_time(settings, reddit_env):
    responses.post(TOKEN, json=fixture("token.json"))
    responses.post(f"{OAUTH}/api/comment/", json=fixture("comment_ratelimit.json"))
    replier = replier_for(settings, "reddit")
    with pytest.raises(RateLimited) as caught:
        replier.reply({"platform": "reddit", "external_id": "t1_k77q", "url": ""}, "On it")
    wait = caught.value.retry_at.timestamp() - clock.now().timestamp()
    assert 530 < wait <= 540


@responses.activate
def test_reply_returns_the_new_comment(settings, reddit_env):
    responses.post(TOKEN, json=fixture("token.json"))
    responses.post(f"{OAUTH}/api/comment/", json=fixture("comment_reply.json"))
    result = replier_for(settings, "reddit").reply({"platform": "reddit", "external_id": "t1_k77q"}, "On it")
    assert result.external_id == "t1_k80a"
    assert result.url == "https://www.reddit.com/r/smartphones/comments/1c2d/lumina_mobile_esim_stuck_on_activating/k80a/"
    assert "thing_id=t1_k77q" in responses.calls[-1].request.body


# --- against the fake API on loopback --------------------------------------------------------


def test_first_run_then_incremental(settings, db, api):
    first = api.add_submission("Lumina Mobile support was great")
    s = on_fake(settings, api)
    assert collect_source(db, s, "reddit").tally.new == 1
    second = api.add_submission("Lumina Mobile bill question")
    result = collect_source(db, s, "reddit")
    assert result.tally.new == 1 and result.tally.updated == 0
    assert set(rows(db)) == {first, second}


def test_listing_pages_within_budget_and_resumes(settings, db, api):
    names = [api.add_submission(f"Lumina Mobile thread {i}") for i in range(12)]
    s = on_fake(settings, api, page_size=5, page_budget=2)
    assert collect_source(db, s, "reddit").tally.new == 10
    assert collect_source(db, s, "reddit").tally.new == 2
    assert set(rows(db)) == set(names)
    afters = [c["query"].get("after") for c in api.calls("/r/all/search") if c["query"]["q"] == '"Lumina Mobile"']
    assert afters[:2] == [None, names[-5]] and afters[-1] == names[2], "the gap resumes after the oldest stored"


def test_inbox_mentions_belong_to_the_addressed_brand(settings, db, api):
    mention = api.add_mention("u/LuminaMobile_Official my eSIM is stuck", to=REDDIT_USER[0])
    api.add_mention("u/SomeoneElse what do you think?", to="SomeoneElse")
    result = collect_source(db, on_fake(settings, api, brands=slice(0, 3)), "reddit")
    assert result.status == "ok"
    stored = rows(db)
    assert list(stored) == [mention]
    row = stored[mention]
    assert row["brand"] == "Lumina Mobile" and row["query"] == "inbox:mentions"
    assert row["mentions_brand_handle"] and row["reply_via_api"]
    assert "?context" not in row["url"] and row["url"].startswith("https://www.reddit.com/r/")


def test_comments_of_named_subreddits_are_scanned_for_terms(settings, db, api):
    post = api.add_submission("Phone plans megathread", subreddit="smartphones")
    hit = api.add_comment("LuminaMobile dropped my calls all week", post)
    api.add_comment("I use a different carrier", post)
    s = on_fake(settings, api, subreddits=("smartphones",))
    collect_source(db, s, "reddit")
    assert list(rows(db)) == [hit]
    assert api.calls("/r/smartphones/comments")


def test_reply_to_comment_and_submission(settings, api):
    post = api.add_submission("Lumina Mobile outage?")
    comment = api.add_comment("Lumina Mobile is down here too", post)
    replier = replier_for(on_fake(settings, api), "reddit")
    to_post = replier.reply({"platform": "reddit", "external_id": post}, "We're looking into it.")
    to_comment = replier.reply({"platform": "reddit", "external_id": comment}, "Sorry, fixing it.")
    assert [(r["in_reply_to"], r["text"]) for r in api.replies] == [
        (post, "We're looking into it."), (comment, "Sorry, fixing it."),
    ]  # fmt: skip
    assert to_post.external_id.startswith("t1_") and to_post.url.endswith(to_post.external_id[3:] + "/")
    assert to_comment.url.startswith("https://www.reddit.com/r/smartphones/comments/")


def test_reply_to_locked_thread_is_a_platform_error(settings, api):
    post = api.add_submission("Lumina Mobile archive", locked=True)
    with pytest.raises(PlatformError, match="THREAD_LOCKED"):
        replier_for(on_fake(settings, api), "reddit").reply({"platform": "reddit", "external_id": post}, "hi")


def test_429_stops_the_source_and_the_next_run_waits(settings, db, api):
    api.add_submission("Lumina Mobile first")
    api.fail("GET", "/r/all/search", 429)
    s = on_fake(settings, api)
    result = collect_source(db, s, "reddit")
    assert result.status == "rate_limited"
    reset = store.collector_runs(db, "reddit", limit=1)[0]["rate_limit_reset"]
    assert reset > store.utcnow()
    calls = len(api.requests)
    assert collect_source(db, s, "reddit").status == "skipped" and len(api.requests) == calls


def test_a_failed_karma_lookup_never_loses_the_page_it_was_for(settings, db, api):
    post = api.add_submission("Lumina Mobile billing again", author="billed_twice")
    api.fail("GET", "/api/user_data_by_account_ids", 429)
    result = collect_source(db, on_fake(settings, api), "reddit")
    assert list(rows(db)) == [post] and rows(db)[post]["author_reach"] == 0, "stored without the karma"
    assert result.status == "rate_limited" and result.tally.new == 1
    assert store.collector_runs(db, "reddit", limit=1)[0]["new"] == 1


def test_one_failing_query_is_reported_alone_and_the_others_run(settings, db, api):
    post = api.add_submission("LuminaMobile coverage map is wrong")
    api.fail("GET", "/r/all/search", 403)  # the first search ("Lumina Mobile") only
    result = collect_source(db, on_fake(settings, api), "reddit")
    assert result.status == "error" and list(rows(db)) == [post]
    assert len(result.errors) == 1 and result.errors[0].startswith("search:Lumina Mobile in r/all: ")


def test_wrong_password_is_a_credentials_error(settings, db, api, monkeypatch):
    monkeypatch.setenv("REDDIT_PASSWORD", "not-it")
    result = collect_source(db, on_fake(settings, api), "reddit")
    assert result.status == "error" and "REDDIT_USERNAME" in result.summary()
    assert "not-it" not in result.summary()


def test_secrets_never_reach_the_log(settings, db, api, caplog):
    api.add_mention("u/LuminaMobile_Official hello")
    with caplog.at_level(logging.DEBUG):
        collect_source(db, on_fake(settings, api), "reddit")
    assert "/message/mentions" in caplog.text, "debug logging was on"
    for name, secret in FakeAPI.env().items():
        if name in ("REDDIT_CLIENT_SECRET", "REDDIT_PASSWORD"):
            assert secret not in caplog.text


def test_competitor_mentions_are_never_replied_to(settings, api):
    post = api.add_submission("Voltel outage")
    replier = replier_for(on_fake(settings, api, brands=slice(0, 3)), "reddit")
    with pytest.raises(PlatformError, match="competitor"):
        replier.reply({"platform": "reddit", "external_id": post, "brand": "Voltel"}, "hi")
    assert api.replies == []
