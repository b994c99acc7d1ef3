"""The X collector: tweepy's real code against recorded-shape pages (responses) and the fake API."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import pytest
import responses
from fakeapi import X_BEARER, fake_api  # noqa: F401 - fake_api is a fixture

import clock
import store
from collectors import CredentialsError, RateLimited, ReplyRestricted, composer_url, replier_for, x
from collectors.run import collect_source
from collectors.sweep import collect_query

FIXTURES = Path(__file__).parent / "fixtures" / "x"
SEARCH = "https://api.twitter.com/2/tweets/search/recent"
USERS_BY = "https://api.twitter.com/2/users/by"


def fixture(name: str) -> dict:
    """A recorded-shape X payload from tests/fixtures/x."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def tuned(settings, brands: slice = slice(0, 1), **x_fields):
    """Settings with only some brands and changed [sources.x] fields."""
    sources = dataclasses.replace(settings.sources, x=dataclasses.replace(settings.sources.x, **x_fields))
    return dataclasses.replace(settings, brands=settings.brands[brands], sources=sources)


@pytest.fixture
def x_env(monkeypatch):
    """Every X credential the fake API accepts, in the environment."""
    from fakeapi import FakeAPI

    for name, value in FakeAPI.env().items():
        if name.startswith("X_"):
            monkeypatch.setenv(name, value)


@pytest.fixture
def api(fake_api, x_env):  # noqa: F811
    """The fake API with the brand accounts registered."""
    for handle in ("LuminaMobile", "LuminaHelp", "ParceloHQ", "ParceloCares", "Voltel"):
        fake_api.add_x_user(handle, brand=True, followers=90_000)
    return fake_api


def collector(settings, **x_fields) -> x.XCollector:
    """An X collector with short retry backoff, for tests."""
    return x.build(tuned(settings, **x_fields), backoff=0.01)


def mentions(db) -> list[dict]:
    """Stored mentions, oldest id first."""
    return list(db.query("SELECT * FROM mentions ORDER BY CAST(external_id AS INTEGER)"))


# --- normalizing ------------------------------------------------------------------------


def test_to_mention_from_recorded_page(settings):
    page = fixture("search_page.json")
    users = {u["id"]: u for u in page["includes"]["users"]}
    brand = settings.brands[0]
    rows = [x.to_mention(t, users[t["author_id"]], brand, "q", {"2001"}) for t in page["data"]]
    tagged, quoted, reply = rows
    assert tagged["author_handle"] == "ana_reyes" and tagged["author_reach"] == 2310
    assert tagged["url"] == "https://x.com/ana_reyes/status/1801000000000000300"
    assert (tagged["like_count"], tagged["repost_count"], tagged["reply_count"]) == (9, 3, 1)
    assert tagged["mentions_brand_handle"] and tagged["reply_via_api"]
    assert quoted["mentions_brand_handle"] and quoted["reply_via_api"], "quoting the brand counts as addressing it"
    assert reply["in_reply_to_brand"] and reply["reply_via_api"]
    assert reply["in_reply_to_id"] == "1800000000000000050" and reply["conversation_id"] == "1800000000000000050"
    assert tagged["created_at"] == "2026-03-02T09:41:07Z" and tagged["language"] == "en"
    assert tagged["raw"]["post"]["id"] == tagged["external_id"]


def test_plain_mention_and_competitor_are_not_replyable(settings):
    page = fixture("search_page.json")
    plain = dict(page["data"][0], entities={}, text="Lumina Mobile is fine I guess")
    assert not x.to_mention(plain, None, settings.brands[0], "q", set())["reply_via_api"]
    competitor = next(b for b in settings.brands if b.competitor)
    assert not x.to_mention(page["data"][0], None, competitor, "q", {"2001"})["reply_via_api"]


def test_composer_url_is_the_reply_intent():
    assert composer_url({"platform": "x", "external_id": "42"}) == "https://x.com/intent/post?in_reply_to=42"


# --- recorded pages through tweepy (responses) -------------------------------------------


@responses.activate
def test_page_without_includes_users_is_stored(settings, db, x_env, caplog):
    responses.get(USERS_BY, json=fixture("users_by.json"))
    responses.get(SEARCH, json=fixture("search_no_includes.json"))
    col = x.build(tuned(settings, slice(1, 2)), backoff=0.01)  # Parcelo: search only, no known handles
    col.prepare(db)
    query = next(q for q in col.queries() if q.kind == "search")
    with caplog.at_level(logging.WARNING):
        tally = collect_query(db, col, query, budget=5)
    assert tally.new == 2
    rows = {r["external_id"]: r for r in mentions(db)}
    assert rows["1801000000000000900"]["author_id"] == "4201"
    assert rows["1801000000000000900"]["url"] == "https://x.com/i/web/status/1801000000000000900"
    assert rows["1801000000000000800"]["author_handle"] is None
    assert "no includes.users" in caplog.text


@responses.activate
def test_malformed_posts_are_logged_and_never_stop_the_page(settings, db, x_env, caplog):
    body = fixture("search_no_includes.json")
    body["data"] += [{"id": "1801000000000000950", "text": "Parcelo?", "entities": {"mentions": ["not-a-dict"]}},
                     {"id": "1801000000000000960", "text": "Parcelo!", "lang": 7},
                     {"id": "１２", "text": "full-width digits are not an id"}]  # fmt: skip
    responses.get(USERS_BY, json=fixture("users_by.json"))
    responses.get(SEARCH, json=body)
    col = x.build(tuned(settings, slice(1, 2)), backoff=0.01)
    col.prepare(db)
    query = next(q for q in col.queries() if q.kind == "search")
    with caplog.at_level(logging.WARNING):
        tally = collect_query(db, col, query, budget=5)
    assert tally.new == 2 and {r["external_id"] for r in mentions(db)} == {"1801000000000000800", "1801000000000000900"}
    assert "skipped post 1801000000000000950 with malformed fields" in caplog.text
    assert "skipped post 1801000000000000960 with malformed fields" in caplog.text


@responses.activate
def test_server_error_is_retried_then_succeeds(settings, db, x_env):
    responses.get(USERS_BY, json=fixture("users_by.json"))
    responses.get(SEARCH, status=503, json=fixture("error_503.json"))
    responses.get(SEARCH, json=fixture("search_page.json") | {"meta": {"result_count": 3}})
    col = collector(settings)
    col.prepare(db)
    tally = collect_query(db, col, col.queries()[0], budget=5)
    assert tally.new == 3
    assert [c.response.status_code for c in responses.calls if c.request.url.startswith(SEARCH)] == [503, 200]


@responses.activate
def test_server_errors_give_up_after_bounded_tries(settings, db, x_env):
    responses.get(USERS_BY, json=fixture("users_by.json"))
    responses.get(SEARCH, status=503, json=fixture("error_503.json"))
    result = collect_source(db, tuned(settings), "x", collector=collector(settings))
    assert result.status == "error" and "gave up after 3 tries" in result.summary()
    assert len([c for c in responses.calls if c.request.url.startswith(SEARCH)]) == 3


@responses.activate
def test_429_stops_the_source_and_records_the_reset(settings, db, x_env):
    reset = int(clock.now().timestamp()) + 600
    responses.get(USERS_BY, json=fixture("users_by.json"))
    responses.get(SEARCH, json=fixture("search_page.json"), headers={"x-rate-limit-remaining": "3"})
    responses.get(SEARCH, status=429, json=fixture("error_429.json"),
                  headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})  # fmt: skip
    result = collect_source(db, tuned(settings), "x", collector=collector(settings))
    assert result.status == "rate_limited" and result.tally.new == 3, "the page done before the 429 is kept"
    run = store.collector_runs(db, "x", limit=1)[0]
    assert run["status"] == "rate_limited" and run["pages"] == 1
    assert run["rate_limit_reset"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(reset))
    # The next run waits for the reset instead of calling X again.
    calls = len(responses.calls)
    again = collect_source(db, tuned(settings), "x", collector=collector(settings))
    assert again.status == "skipped" and "waiting for the rate limit" in again.reason
    assert len(responses.calls) == calls


@responses.activate
def test_401_is_a_credentials_error(settings, db, x_env):
    responses.get(USERS_BY, status=401, json=fixture("error_401.json"))
    result = collect_source(db, tuned(settings), "x", collector=collector(settings))
    assert result.status == "error" and "X_BEARER_TOKEN" in result.summary()
    assert store.collector_runs(db, "x", limit=1)[0]["status"] == "error"


def test_missing_bearer_token_disables_the_source(settings, db):
    result = collect_source(db, settings, "x")
    assert result.status == "skipped" and result.summary() == "x: skipped (X_BEARER_TOKEN is not set)"
    assert replier_for(settings, "x") is None


@responses.activate
def test_reply_posts_with_create_tweet(settings, x_env):
    responses.post("https://api.twitter.com/2/tweets", status=201, json=fixture("create_tweet.json"))
    result = replier_for(settings, "x").reply({"platform": "x", "external_id": "1801000000000000300"}, "Sorry!")
    assert result.external_id == "1801000000000009999"
    assert result.url == "https://x.com/i/web/status/1801000000000009999"
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"text": "Sorry!", "reply": {"in_reply_to_tweet_id": "1801000000000000300"}}
    assert responses.calls[0].request.headers["Authorization"].startswith("OAuth ")


@pytest.mark.parametrize(
    ("status", "body", "headers", "error"),
    [
        (403, "error_403_reply.json", {}, ReplyRestricted),
        (429, "error_429.json", {"x-rate-limit-reset": "1900000000"}, RateLimited),
        (401, "error_401.json", {}, CredentialsError),
    ],
)
@responses.activate
def test_reply_errors_are_named(settings, x_env, status, body, headers, error):
    responses.post("https://api.twitter.com/2/tweets", status=status, json=fixture(body), headers=headers)
    with pytest.raises(error) as caught:
        replier_for(settings, "x").reply({"platform": "x", "external_id": "1"}, "hi")
    if error is RateLimited:
        assert caught.value.retry_at.timestamp() == 1900000000


# --- against the fake API on loopback -----------------------------------------------------


def test_first_run_then_incremental_since_id(settings, db, api):
    first = [api.add_tweet(f"Lumina Mobile post {i}") for i in range(3)]
    s = tuned(settings, api_base=api.url)
    assert collect_source(db, s, "x", collector=collector(s)).tally.new == 3
    later = api.add_tweet("Lumina Mobile one more")
    result = collect_source(db, s, "x", collector=collector(s))
    assert result.tally.new == 1 and result.tally.updated == 0
    searches = api.calls("/2/tweets/search/recent")
    assert "since_id" not in searches[0]["query"]
    assert searches[-1]["query"]["since_id"] == first[-1]
    assert {r["external_id"] for r in mentions(db)} == {*first, later}


def test_three_pages_then_an_empty_result(settings, db, api):
    ids = [api.add_tweet(f"Lumina Mobile update {i}") for i in range(25)]
    s = tuned(settings, api_base=api.url, page_size=10)
    result = collect_source(db, s, "x", collector=collector(s))
    searches = api.calls("/2/tweets/search/recent")
    assert len(searches) == 3 and "next_token" in searches[2]["query"]
    assert result.tally.new == 25 and {r["external_id"] for r in mentions(db)} == set(ids)
    again = collect_source(db, s, "x", collector=collector(s))
    assert again.status == "ok" and again.tally.new == 0
    assert len(api.calls("/2/tweets/search/recent")) == 4


def test_post_found_by_search_and_mentions_is_stored_once(settings, db, api):
    post = api.add_tweet("@LuminaMobile Lumina Mobile please call me back", author="caller")
    s = tuned(settings, api_base=api.url)
    result = collect_source(db, s, "x", collector=collector(s))
    assert api.calls("/2/users/") and result.tally.new == 1 and result.tally.updated >= 1
    assert [r["external_id"] for r in mentions(db)] == [post]


def test_brand_account_ids_are_cached(settings, db, api):
    s = tuned(settings, api_base=api.url)
    collect_source(db, s, "x", collector=collector(s))
    collect_source(db, s, "x", collector=collector(s))
    assert len(api.calls("/2/users/by")) == 1
    assert store.get_meta(db, "x.user_id:luminamobile") == api._x_user_id("LuminaMobile")


def test_run_killed_after_page_two_resumes_without_gaps_or_duplicates(settings, db, api):
    ids = [api.add_tweet(f"Lumina Mobile status {i}") for i in range(35)]
    s = tuned(settings, api_base=api.url, page_size=10)
    col = collector(s)
    real_fetch, pages = col.fetch_page, []

    def dies_on_third_page(*args):
        if len(pages) == 2:
            raise KeyboardInterrupt  # as if the process were killed mid-run
        pages.append(args)
        return real_fetch(*args)

    col.fetch_page = dies_on_third_page
    with pytest.raises(KeyboardInterrupt):
        collect_source(db, s, "x", collector=col)
    assert len(mentions(db)) == 20
    newer = api.add_tweet("Lumina Mobile posted while we were down")
    result = collect_source(db, s, "x", collector=collector(s))
    assert result.tally.new == 16 and result.tally.updated == 0, "pages 1-2 are not fetched again"
    assert {r["external_id"] for r in mentions(db)} == {*ids, newer}
    statuses = [r["status"] for r in store.collector_runs(db, "x")]
    assert statuses == ["ok", "error"], "the killed run is marked interrupted"


@pytest.mark.parametrize(("error", "what"), [(KeyboardInterrupt, "interrupted"), (RuntimeError, "crashed")])
def test_a_run_ended_by_an_exception_is_finished_at_once_with_its_true_counts(settings, db, api, error, what):
    for i in range(35):
        api.add_tweet(f"Lumina Mobile status {i}")
    s = tuned(settings, api_base=api.url, page_size=10)
    col = collector(s)
    real_fetch, pages = col.fetch_page, []

    def fails_on_third_page(*args):
        if len(pages) == 2:
            raise error("stopped")
        pages.append(args)
        return real_fetch(*args)

    col.fetch_page = fails_on_third_page
    with pytest.raises(error):
        collect_source(db, s, "x", collector=col)
    run = store.collector_runs(db, "x", limit=1)[0]
    assert (run["status"], run["new"], run["updated"], run["pages"]) == ("error", 20, 0, 2)
    assert run["error"] == f"{what} before it finished ({error.__name__}: stopped)" and run["finished_at"]


@pytest.mark.parametrize("status", [403, 429])
def test_a_failed_account_lookup_costs_only_the_mentions_timelines(settings, db, api, status):
    searched = api.add_tweet("Lumina Mobile signal is gone", author="walker")
    tagged = api.add_tweet("@LuminaHelp any news on my SIM?", author="waiting_one")  # no search term: timeline only
    api.fail("GET", "/2/users/by", status)
    s = tuned(settings, api_base=api.url)
    result = collect_source(db, s, "x", collector=collector(s))
    assert api.calls("/2/tweets/search/recent"), "the brand search needs no account id and still runs"
    assert result.status == "error" and result.tally.new == 1
    assert [r["external_id"] for r in mentions(db)] == [searched]
    assert len(result.errors) == 1 and result.errors[0].startswith("users lookup: ")
    assert result.errors[0].endswith("the mentions timelines of @LuminaMobile and @LuminaHelp were not read")
    run = store.collector_runs(db, "x", limit=1)[0]
    assert (run["status"], run["new"], run["error"]) == ("error", 1, result.errors[0])
    again = collect_source(db, s, "x", collector=collector(s))
    assert again.status == "ok" and {r["external_id"] for r in mentions(db)} == {searched, tagged}


def test_page_budget_leaves_a_gap_that_the_next_run_fills(settings, db, api):
    ids = [api.add_tweet(f"Lumina Mobile note {i}") for i in range(30)]
    s = tuned(settings, api_base=api.url, page_size=10, page_budget=2)
    assert collect_source(db, s, "x", collector=collector(s)).tally.new == 20
    cursor = json.loads(store.get_cursor(db, "x", "Lumina Mobile", s.brands[0].x.query))
    assert cursor["since"] == ids[-1] and cursor["gaps"] == [{"since": None, "until": ids[10]}]
    assert collect_source(db, s, "x", collector=collector(s)).tally.new == 10
    assert {r["external_id"] for r in mentions(db)} == set(ids)
    assert json.loads(store.get_cursor(db, "x", "Lumina Mobile", s.brands[0].x.query))["gaps"] == []


def test_reply_through_the_fake_api(settings, api):
    addressed = api.add_tweet("@LuminaHelp my SIM is dead")
    unaddressed = api.add_tweet("Lumina Mobile is down for me")
    replier = replier_for(tuned(settings, api_base=api.url), "x")
    result = replier.reply({"platform": "x", "external_id": addressed}, "Sorry! DM us please.")
    assert api.replies == [{"platform": "x", "in_reply_to": addressed, "text": "Sorry! DM us please.", "id": result.external_id}]
    with pytest.raises(ReplyRestricted):
        replier.reply({"platform": "x", "external_id": unaddressed}, "Hello")


def test_secrets_never_reach_the_log(settings, db, api, caplog):
    api.add_tweet("@LuminaMobile hello")
    s = tuned(settings, api_base=api.url)
    with caplog.at_level(logging.DEBUG):
        collect_source(db, s, "x", collector=collector(s))
    assert "Bearer [redacted]" in caplog.text
    assert X_BEARER not in caplog.text


def test_api_base_keeps_trust_env(settings, x_env):
    col = x.build(tuned(settings, api_base="http://127.0.0.1:9"))
    adapter = col.client.session.get_adapter("https://api.twitter.com/2/tweets")
    assert col.client.session.trust_env is True
    assert isinstance(adapter, x.http.APIAdapter) and adapter.base == "http://127.0.0.1:9"
