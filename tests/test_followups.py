"""Follow-ups: answers to our replies fetched by the real tweepy and praw code from the fake API."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from fakeapi import FakeAPI, fake_api  # noqa: F401 - fake_api is a fixture

import clock
import store
from collectors import replier_for
from collectors.run import collect_source
from reputation import outcomes


@pytest.fixture
def api(fake_api, monkeypatch):  # noqa: F811
    """The fake API with the brand accounts and every credential it accepts."""
    for name, value in FakeAPI.env().items():
        monkeypatch.setenv(name, value)
    for handle in ("LuminaMobile", "LuminaHelp", "ParceloHQ", "ParceloCares", "Voltel"):
        fake_api.add_x_user(handle, brand=True, followers=90_000)
    return fake_api


def on_fake(settings, api):
    """Settings with only the first brand, both sources pointed at the fake API."""
    sources = dataclasses.replace(
        settings.sources,
        x=dataclasses.replace(settings.sources.x, api_base=api.url),
        reddit=dataclasses.replace(settings.sources.reddit, oauth_url=api.url, reddit_url=api.url),
    )
    return dataclasses.replace(settings, brands=settings.brands[:1], sources=sources)


def answer(db, settings, platform: str, external_id: str, text: str = "Sorry! We are on it.") -> dict:
    """Reply to a stored mention through the platform, as the console does; return the reply row."""
    mention = next(
        db.query("SELECT * FROM mentions WHERE platform = ? AND external_id = ?", [platform, external_id])
    )
    reply, _ = store.start_reply(db, mention["id"], f"key-{external_id}", "agent", text)
    result = replier_for(settings, platform).reply(mention, text)
    store.finish_reply(db, reply["id"], "sent", "agent", external_id=result.external_id, url=result.url)
    return store.get_reply(db, reply["id"])


def linked(db) -> list[tuple[str, int, int]]:
    """(follow-up external id, mention id, by_customer) of every linked follow-up."""
    return [(r["external_id"], r["mention_id"], r["by_customer"]) for r in db.query(
        "SELECT f.external_id, l.mention_id, l.by_customer FROM followups l JOIN mentions f ON f.id = l.followup_id "
        "ORDER BY f.id")]  # fmt: skip


def test_x_follow_up_to_our_reply_is_fetched_once_and_linked(settings, db, api):
    s = on_fake(settings, api)
    complaint = api.add_tweet("@LuminaHelp my bill doubled again", author="dana_k")
    collect_source(db, s, "x")
    reply = answer(db, s, "x", complaint)
    follow = api.add_x_followup(reply["external_id"], "thanks, all sorted now", author="dana_k")
    api.add_x_followup(reply["external_id"], "same here, still broken", author="mo_travels")
    first = collect_source(db, s, "x")
    assert first.status == "ok"
    outcomes.refresh(db, s)
    mention_id = store.mention_id(db, "x", complaint)
    assert (follow, mention_id, 1) in linked(db) and len(linked(db)) == 2, (
        "the customer's and another's answer"
    )
    row = next(db.query("SELECT * FROM mentions WHERE external_id = ?", [follow]))
    assert row["in_reply_to_id"] == reply["external_id"] and row["brand"] == "Lumina Mobile"
    searches = [
        c["query"]
        for c in api.calls("/2/tweets/search/recent")
        if "in_reply_to_tweet_id" in c["query"]["query"]
    ]
    assert searches[-1]["query"] == f"in_reply_to_tweet_id:{reply['external_id']}"
    assert searches[-1]["since_id"] == reply["external_id"], "answers are newer than our reply"
    again = collect_source(db, s, "x")
    assert again.tally.new == 0 and store.count_mentions(db) == 3, "nothing is stored twice"
    last = [
        c["query"]
        for c in api.calls("/2/tweets/search/recent")
        if "in_reply_to_tweet_id" in c["query"]["query"]
    ][-1]
    assert int(last["since_id"]) > int(reply["external_id"]), "the next run asks only for newer answers"


def test_x_reply_added_after_the_cursor_still_gets_its_answers(settings, db, api):
    s = on_fake(settings, api)
    one = api.add_tweet("@LuminaHelp no signal at home", author="dana_k")
    two = api.add_tweet("@LuminaHelp roaming charged twice", author="mo_travels")
    collect_source(db, s, "x")
    first = answer(db, s, "x", one)
    api.add_x_followup(first["external_id"], "ok, trying that", author="dana_k")
    collect_source(db, s, "x")
    second = answer(db, s, "x", two)  # its id is below the newest answer already seen
    late = api.add_x_followup(second["external_id"], "thank you, refund arrived", author="mo_travels")
    collect_source(db, s, "x")
    outcomes.refresh(db, s)
    assert (late, store.mention_id(db, "x", two), 1) in linked(db)


def test_reddit_comment_reply_to_our_comment_is_fetched_and_linked(settings, db, api):
    s = on_fake(settings, api)
    mention = api.add_mention("u/LuminaMobile_Official my eSIM has been pending for days", author="sim_less")
    collect_source(db, s, "reddit")
    reply = answer(db, s, "reddit", mention)
    follow = api.add_reddit_followup(reply["external_id"], "Thanks, it activated!", author="sim_less")
    result = collect_source(db, s, "reddit")
    assert result.status == "ok", result.errors
    outcomes.refresh(db, s)
    assert linked(db) == [(follow, store.mention_id(db, "reddit", mention), 1)]
    assert api.calls("/message/comments")
    assert collect_source(db, s, "reddit").tally.new == 0, "the inbox listing stops at what is stored"


def test_follow_up_seen_before_our_reply_is_recorded_as_sent_still_counts(settings, db, api):
    s = on_fake(settings, api)
    complaint = api.add_tweet("@LuminaHelp parcel never arrived", author="dana_k")
    collect_source(db, s, "x")
    mention = next(db.query("SELECT * FROM mentions WHERE external_id = ?", [complaint]))
    reply, _ = store.start_reply(db, mention["id"], "slow-key", "agent", "Sorry, checking.")
    posted = replier_for(s, "x").reply(mention, "Sorry, checking.")
    follow = api.add_x_followup(posted.external_id, "thank you so much", author="dana_k")
    collect_source(db, s, "x")  # the answer arrives by the mentions timeline; our reply is still pending
    clock.start_at(clock.now() + timedelta(minutes=2))
    store.finish_reply(db, reply["id"], "sent", "agent", external_id=posted.external_id, url=posted.url)
    outcomes.refresh(db, s)
    answered = store.get_reply(db, reply["id"])["sent_at"]
    stored = next(db.query("SELECT created_at FROM mentions WHERE external_id = ?", [follow]))["created_at"]
    assert stored < answered, "the answer is dated before our reply was recorded"
    assert store.get_outcome(db, mention["id"])["outcome"] == "satisfied"


# --- end to end: console, fake API, `collect`, outcome, dashboard and CSV ----------------


def outcome_csv(client) -> dict[str, str]:
    """The team row of the Outcomes CSV."""
    import csv
    import io

    text = client.get("/dashboard/metrics/outcomes.csv").get_data(as_text=True)
    return next(r for r in csv.DictReader(io.StringIO(text)) if r["group"] == "team")


def test_answered_from_the_console_then_the_customers_answer_changes_outcome_dashboard_and_csv(tmp_path, api):
    from browser_helpers import csrf_from, live_console
    from click.testing import CliRunner
    from conftest import write_config
    from fakeapi import config_replacements

    import settings as settings_mod
    from app import cli

    complaint = api.add_tweet(
        "@LuminaHelp my bill doubled this month and nobody answers. Fix this", author="dana_k"
    )
    config = write_config(tmp_path, replace=config_replacements(api))
    collect = lambda: CliRunner().invoke(cli, ["--config", str(config), "collect", "--source", "x"])  # noqa: E731
    assert collect().exit_code == 0
    s = settings_mod.load(config)
    db = store.connect(s.database)
    try:
        mention_id = store.mention_id(db, "x", complaint)
        client = live_console(db, s)
        page = client.get(f"/m/{mention_id}/reply").get_data(as_text=True)
        key = __import__("re").search(r'name="key" value="([^"]+)"', page).group(1)
        sent = client.post(f"/m/{mention_id}/reply", data={"body": "So sorry Dana, refund on its way.", "key": key,
                                                          "csrf_token": csrf_from(page)})  # fmt: skip
        assert sent.status_code == 302 and len(api.replies) == 1
        assert store.get_outcome(db, mention_id)["outcome"] == "no_reply_yet"
        before = outcome_csv(client)
        assert (before["answered"], before["no_reply_yet"], before["satisfied"]) == ("1", "1", "0")
        api.add_x_followup(api.replies[0]["id"], "thank you, the refund arrived!", author="dana_k")
        result = collect()
        assert result.exit_code == 0, result.output
        decided = store.get_outcome(db, mention_id)
        assert decided["outcome"] == "satisfied" and "refund arrived" in decided["evidence"]["quote"]
        after = outcome_csv(client)
        assert (after["no_reply_yet"], after["satisfied"], after["satisfaction_rate_percent"]) == (
            "0",
            "1",
            "100.0",
        )
        dashboard = client.get("/dashboard/").get_data(as_text=True)
        assert '<b id="kpi-satisfaction">100.0%</b>' in dashboard
        shown = client.get(f"/m/{mention_id}").get_data(as_text=True)
        assert 'data-outcome="satisfied"' in shown and "the refund arrived!" in shown
    finally:
        db.close()


# --- Bluesky and Mastodon: answers to our replies arrive by notifications; they are linked the same way ------


def record_reply(db, mention_id: int, external_id: str, url: str) -> dict:
    """Our reply to a mention as posted on the platform (the fakes do not keep created posts)."""
    reply, _ = store.start_reply(db, mention_id, f"key-{external_id}", "agent", "Sorry! Looking now.")
    store.finish_reply(db, reply["id"], "sent", "agent", external_id=external_id, url=url)
    return store.get_reply(db, reply["id"])


def test_bluesky_reply_to_our_reply_is_linked(db, settings, monkeypatch):
    from fake_bluesky import HANDLE, FakeBluesky
    from test_bluesky import run, tuned

    with FakeBluesky() as bsky:
        bsky.add_account(HANDLE, name="Lumina Mobile", followers=40_000, brand=True)
        for name, value in bsky.env().items():
            monkeypatch.setenv(name, value)
        complaint = bsky.add_post(f"@{HANDLE} my bill doubled", author="finn.bsky.social")
        s = tuned(settings, bsky)
        run(db, s)
        ours = bsky.add_post("Sorry Finn, refund on its way", author=HANDLE, reply_to=complaint)
        record_reply(
            db, store.mention_id(db, "bluesky", complaint), ours, "https://bsky.app/profile/x/post/1"
        )
        follow = bsky.add_post("thank you, it arrived!", author="finn.bsky.social", reply_to=ours)
        run(db, s)
    outcomes.refresh(db, s)
    assert linked(db) == [(follow, store.mention_id(db, "bluesky", complaint), 1)]
    assert store.get_outcome(db, store.mention_id(db, "bluesky", complaint))["outcome"] == "satisfied"


def test_mastodon_reply_to_our_reply_is_linked_by_the_servers_id(db, settings, monkeypatch):
    from fake_mastodon import FakeMastodon
    from test_mastodon import run, tuned

    with FakeMastodon("mastodon.social") as server:
        server.add_account("LuminaMobile", name="Lumina Mobile", followers=30_000, brand=True)
        monkeypatch.setenv("MASTODON_TOKEN_0", server.token)
        complaint = server.add_status("@LuminaMobile no signal since Monday", author="ana@other.example")
        s = tuned(settings, server)
        run(db, s)
        mention = next(db.query("SELECT * FROM mentions WHERE platform = 'mastodon'"))
        ours = server.add_status(
            "@ana@other.example sorry, checking the mast", author="LuminaMobile", reply_to=complaint
        )
        status = server.statuses[ours]
        record_reply(db, mention["id"], status["uri"], status["url"])
        server.add_status("@LuminaMobile still no signal", author="ana@other.example", reply_to=ours)
        run(db, s)
    outcomes.refresh(db, s)
    (follow,) = linked(db)
    assert follow[1:] == (mention["id"], 1)
    assert store.get_outcome(db, mention["id"])["outcome"] == "still_unhappy"
