"""The Mastodon collector: Mastodon.py's real client against fake Mastodon servers on loopback."""

from __future__ import annotations

import dataclasses
import json

import pytest
from browser_helpers import live_console
from fake_mastodon import FakeMastodon, fake_mastodon  # noqa: F401 - fake_mastodon is a fixture
from test_web import composer_form

import store
from collectors import CredentialsError, PlatformError, mastodon, replier_for, reply_limit
from collectors.run import collect_source
from settings import MastodonServer

NOTIFICATIONS = "/api/v1/notifications"
TAG = "/api/v1/timelines/tag/LuminaMobile"


def tuned(settings, *servers: FakeMastodon, search: bool = True, **fields):
    """Settings reading only the first brand, from these fake servers (tokens in MASTODON_TOKEN_<n>)."""
    confs = tuple(MastodonServer(name=api.domain, api_base=api.url, access_token_env=f"MASTODON_TOKEN_{i}", search=search)
                  for i, api in enumerate(servers))  # fmt: skip
    source = dataclasses.replace(settings.sources.mastodon, servers=confs, **fields)
    return dataclasses.replace(settings, brands=settings.brands[:1],
                               sources=dataclasses.replace(settings.sources, mastodon=source))  # fmt: skip


@pytest.fixture
def api(fake_mastodon, monkeypatch):  # noqa: F811
    """mastodon.social with the brand account, its token in the environment."""
    monkeypatch.setenv("MASTODON_TOKEN_0", fake_mastodon.token)
    return fake_mastodon


def run(db, s):
    """One collection run of the Mastodon source, with short retry backoff."""
    return collect_source(db, s, "mastodon", collector=mastodon.build(s, backoff=0.01))


def stored(db) -> list[dict]:
    """Stored Mastodon mentions, oldest first."""
    return list(
        db.query("SELECT * FROM mentions WHERE platform = 'mastodon' ORDER BY created_at, external_id")
    )


def tagged(api: FakeMastodon, n: int, text: str = "Lumina Mobile outage") -> list[str]:
    """``n`` statuses with the brand's hashtag; their ids."""
    return [api.add_status(f"{text} {i} #LuminaMobile", author=f"u{i % 3}@other.example", tags=("LuminaMobile",))
            for i in range(n)]  # fmt: skip


# --- reading ------------------------------------------------------------------------------


def test_a_mention_is_stored_in_earshot_terms(db, settings, api):
    status_id = api.add_status("@LuminaMobile my bill doubled &amp; no one answers", author="ana@other.example",
                               visibility="private", likes=2)  # fmt: skip
    result = run(db, tuned(settings, api))
    assert result.status == "ok" and result.tally.new == 1
    row = stored(db)[0]
    assert row["external_id"] == f"https://other.example/users/ana/statuses/{status_id}"
    assert row["url"] == f"https://other.example/@ana/{status_id}" and row["text"].startswith(
        "@LuminaMobile my bill"
    )
    assert (row["author_handle"], row["author_id"]) == (
        "ana@other.example",
        "https://other.example/users/ana",
    )
    assert row["mentions_brand_handle"] and row["reply_via_api"] and row["like_count"] == 2
    raw = json.loads(row["raw"])
    assert raw["server"] == "mastodon.social" and raw["status"]["id"] == status_id
    assert reply_limit(db, row) == 500 - len("@ana "), (
        "the server's limit, less the @mention the reply starts with"
    )


def test_paging_across_two_runs_has_no_duplicates_and_no_gaps(db, settings, api):
    first = tagged(api, 25)
    s = tuned(settings, api, search=False, page_size=10)
    assert run(db, s).tally.new == 25
    before = len(api.calls(TAG))
    later = tagged(api, 4, "Lumina Mobile still down")
    again = run(db, s)
    assert (again.tally.new, again.tally.updated) == (4, 0)
    calls = api.calls(TAG)[before:]
    assert calls[0]["query"]["since_id"] == first[-1] and "max_id" not in calls[0]["query"]
    rows = stored(db)
    assert len(rows) == 29 and {json.loads(r["raw"])["status"]["id"] for r in rows} == {*first, *later}


def test_a_run_killed_mid_sweep_resumes_without_gaps_or_duplicates(db, settings, api):
    ids = tagged(api, 35)
    s = tuned(settings, api, search=False, page_size=10)
    col = mastodon.build(s, backoff=0.01)
    real, pages = col.fetch_page, []

    def dies_on_third_page(*args):
        if len(pages) == 2:
            raise KeyboardInterrupt
        pages.append(args)
        return real(*args)

    col.fetch_page = dies_on_third_page
    with pytest.raises(KeyboardInterrupt):
        collect_source(db, s, "mastodon", collector=col)
    count = len(stored(db))
    newer = tagged(api, 1, "Lumina Mobile while we were down")
    result = run(db, s)
    assert result.tally.updated == 0 and result.tally.new == 36 - count
    assert {json.loads(r["raw"])["status"]["id"] for r in stored(db)} == {*ids, *newer}
    assert [r["status"] for r in store.collector_runs(db, "mastodon")] == ["ok", "error"]


def test_search_runs_only_where_the_server_allows_it(db, settings, api):
    api.add_status("Lumina Mobile support was great", author="kay@other.example")
    run(db, tuned(settings, api, search=False))
    assert not api.calls("/api/v2/search") and stored(db) == []
    run(db, tuned(settings, api, search=True))
    assert api.calls("/api/v2/search")[0]["query"]["type"] == "statuses" and len(stored(db)) == 1


def test_two_servers_are_read_each_with_its_own_token(db, settings, api, monkeypatch):
    with FakeMastodon("fosstodon.org", token="second-token") as other:
        other.add_account("LuminaMobile", brand=True)
        monkeypatch.setenv("MASTODON_TOKEN_1", "second-token")
        api.add_status("Lumina Mobile #LuminaMobile on one", tags=("LuminaMobile",))
        other.add_status("Lumina Mobile #LuminaMobile on two", author="local_user", tags=("LuminaMobile",))
        result = run(db, tuned(settings, api, other))
    assert result.status == "ok" and result.tally.new == 2
    assert {json.loads(r["raw"])["server"] for r in stored(db)} == {"mastodon.social", "fosstodon.org"}
    assert "local_user@fosstodon.org" in {r["author_handle"] for r in stored(db)}


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "rejected the access token (401): check MASTODON_TOKEN_0"),
        (403, "refused it (403)"),
        (404, "could not find it (404)"),
        (410, "says it is gone (410)"),
        (422, "refused it (422)"),
    ],
)
def test_refusals_are_clear_source_health_errors(db, settings, api, status, words):
    tagged(api, 2)
    api.fail("GET", TAG, status)
    result = run(db, tuned(settings, api, search=False))
    assert result.status == "error" and words in result.summary()
    assert store.collector_runs(db, "mastodon", limit=1)[0]["status"] == "error"


def test_a_rejected_token_found_at_start_costs_only_that_server(db, settings, api, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN_0", "wrong")
    result = run(db, tuned(settings, api))
    assert result.status == "error" and "rejected the access token (401)" in result.summary()
    assert not api.calls(TAG), "that server's queries were not sent"


def test_429_records_the_reset_and_the_next_run_waits(db, settings, api):
    tagged(api, 2)
    api.fail("GET", TAG, 429)
    s = tuned(settings, api, search=False)
    result = run(db, s)
    assert result.status == "rate_limited"
    reset = api.fail_headers(429)["X-RateLimit-Reset"].replace(".000Z", "Z")
    assert store.collector_runs(db, "mastodon", limit=1)[0]["rate_limit_reset"] == reset
    calls = len(api.requests)
    again = run(db, s)
    assert (
        again.status == "skipped"
        and "waiting for the rate limit" in again.reason
        and len(api.requests) == calls
    )


@pytest.mark.parametrize(("fault", "times", "status"), [("503", 1, "ok"), ("malformed", 1, "ok"),
                                                         ("503", 3, "error"), ("malformed", 3, "error")])  # fmt: skip
def test_server_errors_and_malformed_answers_are_retried_then_given_up(
    db, settings, api, fault, times, status
):
    tagged(api, 2)
    if fault == "503":
        api.fail("GET", TAG, 503, times=times)
    else:
        api.malformed("GET", TAG, times=times)
    result = run(db, tuned(settings, api, search=False))
    assert result.status == status
    if status == "ok":
        assert result.tally.new == 2
    else:
        assert "gave up after 3 tries" in result.summary()


def test_without_a_token_the_source_is_skipped(db, settings):
    result = collect_source(db, settings, "mastodon")
    assert result.status == "skipped" and result.reason == "MASTODON_ACCESS_TOKEN is not set"
    assert replier_for(settings, "mastodon") is None


# --- replying -----------------------------------------------------------------------------


def collected(db, settings, api, text: str, **status) -> dict:
    """Post ``text`` on the fake, collect it, and return the stored mention."""
    status_id = api.add_status(text, **status)
    run(db, tuned(settings, api))
    uri = api.statuses[status_id]["uri"]
    return store.get_mention(db, store.mention_id(db, "mastodon", uri))


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_a_reply_answers_in_the_same_visibility(db, settings, api, visibility):
    mention = collected(db, settings, api, "@LuminaMobile is roaming included?", author="lou@other.example",
                        visibility=visibility)  # fmt: skip
    result = replier_for(tuned(settings, api), "mastodon").reply(mention, "Yes, in 40 countries.")
    (posted,) = api.posted
    assert posted["visibility"] == visibility, "never more public than the post it answers"
    assert posted["in_reply_to_id"] == json.loads(mention["raw"])["status"]["id"]
    assert posted["status"] == "@lou@other.example Yes, in 40 countries."
    assert result.url.startswith("https://mastodon.social/@LuminaMobile/")


def test_a_refused_reply_is_a_platform_error(db, settings, api):
    mention = collected(db, settings, api, "@LuminaMobile hello", author="max@other.example")
    api.fail("POST", "/api/v1/statuses", 422, body={"error": "Validation failed: Text can't be blank"})
    with pytest.raises(PlatformError, match="422"):
        replier_for(tuned(settings, api), "mastodon").reply(mention, "Hi")
    assert api.posted == []


def test_a_reply_with_a_revoked_token_is_a_credentials_error(db, settings, api):
    mention = collected(db, settings, api, "@LuminaMobile hello", author="ned@other.example")
    api.token = "revoked"
    with pytest.raises(CredentialsError):
        replier_for(tuned(settings, api), "mastodon").reply(mention, "Hi")


def test_a_retried_reply_is_posted_once_by_its_idempotency_key(db, settings, api):
    mention = collected(db, settings, api, "@LuminaMobile hello", author="ola@other.example")
    replier = replier_for(tuned(settings, api), "mastodon")
    first = replier.reply(mention, "Hi Ola")
    second = replier.reply(mention, "Hi Ola")
    assert len(api.posted) == 1 and first == second


# --- through the console ------------------------------------------------------------------


@pytest.fixture
def console(db, settings, api):
    """A logged-in agent on a non-demo console whose Mastodon server is the fake, and its settings."""
    s = tuned(settings, api)
    return live_console(db, s), s


def test_a_double_clicked_reply_posts_once(db, settings, api, console):
    client, s = console
    mention = collected(db, s, api, "@LuminaMobile refund please", author="pia@other.example")
    form = {**composer_form(client, mention["id"]), "body": "Refund is on its way."}
    client.post(f"/m/{mention['id']}/reply", data=form)
    second = client.post(f"/m/{mention['id']}/reply", data=form, follow_redirects=True)
    assert len(api.posted) == 1 and "already submitted" in second.get_data(as_text=True)
    assert store.mention_replies(db, mention["id"])[0]["status"] == "sent"


def test_the_composer_uses_the_limit_the_server_reported(db, settings, monkeypatch):
    with FakeMastodon("tiny.example", max_characters=120) as small:
        small.add_account("LuminaMobile", brand=True)
        monkeypatch.setenv("MASTODON_TOKEN_0", small.token)
        s = dataclasses.replace(tuned(settings, small), brands=tuple(
            dataclasses.replace(b, mastodon=dataclasses.replace(b.mastodon, handles=("LuminaMobile@tiny.example",)))
            for b in settings.brands[:1]))  # fmt: skip
        mention = collected(db, s, small, "@LuminaMobile hello", author="quinn@other.example")
        client = live_console(db, s)
        page = client.get(f"/m/{mention['id']}/reply").get_data(as_text=True)
        assert 'data-platform="mastodon" data-limit="113"' in page, (
            "120 less the '@quinn ' the reply starts with"
        )
        long_link = "https://lumina.example/" + "y" * 60
        over = {**composer_form(client, mention["id"]), "body": "x" * 90 + " " + long_link}
        assert client.post(f"/m/{mention['id']}/reply", data=over).status_code == 422 and small.posted == []
        within = {**composer_form(client, mention["id"]), "body": "x" * 80 + " " + long_link}
        assert client.post(f"/m/{mention['id']}/reply", data=within).status_code == 302, "the link counts 23"
        assert len(small.posted) == 1
