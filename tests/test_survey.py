"""The CSAT survey over raw HTTP: no login, one vote per reply, forged, expired and reused tokens, script in comments."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from browser_helpers import LiveServer, add_mention, add_users, csrf_from, login

import clock
import store
from web import survey


@pytest.fixture
def answered(db, settings):
    """A complaint with a sent reply under idempotency key 'reply-key-1'; returns (mention id, reply id)."""
    mention_id = add_mention(db, settings, "@LuminaHelp my bill doubled")
    reply, _ = store.start_reply(db, mention_id, "reply-key-1", "sam", "Sorry! Tell us how we did: {survey}")
    store.finish_reply(
        db, reply["id"], "sent", "sam", external_id="555", url="https://x.com/i/web/status/555"
    )
    return mention_id, reply["id"]


def token(app, key: str = "reply-key-1") -> str:
    """A survey token as the console issues it."""
    with app.test_request_context():
        return survey.token_for(key)


def vote(http: requests.Session, url: str, rating: str, comment: str = "") -> requests.Response:
    """Open the survey, then send a rating with a valid CSRF token of this session (the page's, else the login page's)."""
    page = http.get(url)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    csrf = found.group(1) if found else csrf_from(http.get(url.split("/s/")[0] + "/login").text)
    return http.post(
        url, data={"rating": rating, "comment": comment, "csrf_token": csrf}, allow_redirects=False
    )


@pytest.fixture
def live(app):
    """The console served on a loopback port."""
    with LiveServer(app) as server:
        yield server


def test_one_vote_over_raw_http_without_login_and_script_stays_text(app, db, answered, live):
    mention_id, reply_id = answered
    url = f"{live.url}/s/{token(app)}"
    http = requests.Session()
    page = http.get(url, allow_redirects=False)
    assert page.status_code == 200 and "How did we do?" in page.text and "/login" not in page.text
    sent = vote(http, url, "4", '<script>alert("x")</script> slow but fixed')
    assert sent.status_code == 302
    thanks = http.get(url)
    assert "Your answer is recorded: 4 out of 5" in thanks.text
    stored = store.csat_for_reply(db, reply_id)
    assert (stored["rating"], stored["mention_id"]) == (4, mention_id)
    assert stored["comment"] == '<script>alert("x")</script> slow but fixed', "stored as typed"
    again = requests.get(url)
    assert "Your answer is recorded: 4" in again.text and 'name="rating"' not in again.text, "no second form"
    reused = http.post(url, data={"rating": "1", "csrf_token": csrf_from(http.get(f"{live.url}/login").text)},
                       allow_redirects=False)  # fmt: skip
    assert reused.status_code == 409 and store.csat_for_reply(db, reply_id)["rating"] == 4


def test_the_comment_is_escaped_on_the_mention_page(app, db, answered, client):
    mention_id, reply_id = answered
    store.record_csat(db, reply_id, mention_id, 2, "<img src=x onerror=alert(1)> still waiting")
    add_users(db)
    login(client, "sam")
    html = client.get(f"/m/{mention_id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt; still waiting" in html and "<img src=x" not in html
    assert '<b class="csat-rating">2/5</b>' in html


@pytest.mark.parametrize("forge", ["tamper", "other-secret", "unsigned", "garbage"])
def test_a_forged_token_is_refused(app, db, answered, live, forge):
    good = token(app)
    bad = {
        "tamper": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other-secret": survey._ClockSigner("not-our-secret", salt=survey.SALT).sign("reply-key-1").decode(),
        "unsigned": "reply-key-1",
        "garbage": "%3Cscript%3E",
    }[forge]
    http = requests.Session()
    assert http.get(f"{live.url}/s/{bad}").status_code == 404
    assert vote(http, f"{live.url}/s/{bad}", "5").status_code == 404
    assert store.csat_for_reply(db, answered[1]) is None


def test_a_token_for_a_reply_that_was_never_posted_is_refused(app, db, answered, live):
    failed, _ = store.start_reply(db, answered[0], "failed-key", "sam", "x", override=True)
    store.finish_reply(db, failed["id"], "failed", "sam", error="403")
    assert requests.get(f"{live.url}/s/{token(app, 'failed-key')}").status_code == 404
    assert requests.get(f"{live.url}/s/{token(app, 'no-such-key')}").status_code == 404


def test_an_expired_token_is_refused_at_the_edge_of_its_life(app, db, settings, answered, live):
    issued = clock.now()
    url = f"{live.url}/s/{token(app)}"
    life = timedelta(days=settings.outcomes.survey_days)
    clock.start_at(issued + life - timedelta(seconds=5), frozen=True)
    assert requests.get(url).status_code == 200, "still inside its life"
    clock.start_at(issued + life + timedelta(seconds=2), frozen=True)
    assert requests.get(url).status_code == 410
    assert vote(requests.Session(), url, "5").status_code == 410
    assert store.csat_for_reply(db, answered[1]) is None


def test_a_rating_outside_one_to_five_is_refused(app, db, answered, live):
    url = f"{live.url}/s/{token(app)}"
    for rating in ("0", "6", "five", ""):
        assert vote(requests.Session(), url, rating).status_code == 422
    assert store.csat_for_reply(db, answered[1]) is None


def test_submissions_are_rate_limited_per_address(app, db, settings, answered, live):
    url = f"{live.url}/s/{token(app, 'no-such-key')}"
    http = requests.Session()
    codes = [vote(http, url, "5").status_code for _ in range(settings.outcomes.survey_posts_per_hour + 1)]
    assert codes[:-1] == [404] * settings.outcomes.survey_posts_per_hour and codes[-1] == 429
    good = vote(http, f"{live.url}/s/{token(app)}", "5")
    assert good.status_code == 429 and store.csat_for_reply(db, answered[1]) is None, "a good token waits too"
    clock.start_at(clock.now() + timedelta(hours=1, seconds=1))
    assert vote(http, f"{live.url}/s/{token(app)}", "5").status_code == 302


def test_the_saved_reply_placeholder_inserts_this_replys_link(app, db, answered, client):
    add_users(db)
    store.add_saved_reply(db, "Sorry + survey", "Sorry {author}! How did we do? {survey}", "admin")
    login(client, "sam")
    mention_id = add_mention(db, app.config["EARSHOT_SETTINGS"], "@LuminaHelp no signal", minutes_ago=5)
    page = client.get(f"/m/{mention_id}/reply").get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    link = re.search(r"http://localhost/s/([\w.\-]+)", page)
    assert link, "the survey link is filled in"
    with app.test_request_context():
        assert survey._signer().unsign(link.group(1)).decode() == key, (
            "the link names the reply this form posts"
        )
