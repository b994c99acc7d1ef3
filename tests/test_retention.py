"""Retention cohorts: what complaining customers posted afterwards, answered against unanswered, fast against slow."""

from __future__ import annotations

import csv
import io

import pytest

import store
from reputation import retention
from reputation.filters import from_request

RANGE = {"from": "2026-10-01", "to": "2026-11-18"}


def post(db, n: int, author: str, text: str, sentiment: str, at: str, answered_after: int | None = None,
         reply_to: str | None = None) -> int:  # fmt: skip
    """Store one scored Lumina Mobile post on X (answered ``answered_after`` minutes later); return its id."""
    store.upsert_mentions(db, [{"platform": "x", "external_id": str(n), "brand": "Lumina Mobile", "query": "q",
                                "text": text, "author_id": author, "author_handle": author, "created_at": at,
                                "in_reply_to_id": reply_to}])  # fmt: skip
    mention_id = store.mention_id(db, "x", str(n))
    first = None
    if answered_after is not None:
        first = store.utc_text(store.parse_utc(at) + __import__("datetime").timedelta(minutes=answered_after))
    db.execute(
        "UPDATE mentions SET sentiment = ?, first_response_at = ? WHERE id = ?",
        [sentiment, first, mention_id],
    )
    return mention_id


@pytest.fixture
def stories(db):
    """Six customers, one story each."""
    post(db, 1, "ana", "@LuminaHelp no signal", "negative", "2026-11-02T09:00:00Z", answered_after=20)
    post(db, 2, "ana", "Lumina Mobile coverage is great now", "positive", "2026-11-10T09:00:00Z")
    post(db, 3, "ben", "@LuminaHelp bill doubled", "negative", "2026-11-03T09:00:00Z", answered_after=600)
    post(db, 4, "ben", "Lumina Mobile overcharged me again", "negative", "2026-11-12T09:00:00Z")
    post(db, 5, "cat", "@LuminaHelp dropped calls all day", "negative", "2026-10-20T09:00:00Z")
    post(db, 6, "cat", "Lumina Mobile, I'm switching to Voltel", "negative", "2026-10-25T09:00:00Z")
    post(db, 7, "dev", "@LuminaHelp app keeps crashing", "negative", "2026-11-05T09:00:00Z")
    post(
        db, 8, "eve", "@LuminaHelp roaming fee", "negative", "2026-09-15T09:00:00Z"
    )  # first complaint before the range
    post(db, 9, "eve", "@LuminaHelp roaming fee again", "negative", "2026-11-06T09:00:00Z")
    complaint = post(
        db, 10, "fay", "@LuminaHelp parcel lost", "negative", "2026-11-07T09:00:00Z", answered_after=30
    )
    reply, _ = store.start_reply(db, complaint, "fay-key", "sam", "Sorry!")
    store.finish_reply(db, reply["id"], "sent", "sam", external_id="r10")
    post(db, 11, "fay", "@LuminaHelp thanks!", "positive", "2026-11-07T10:00:00Z", reply_to="r10")
    store.link_followups(db, "2026-01-01T00:00:00Z")


def figures(db, settings):
    """Retention figures for the test range."""
    return retention.figures(db, settings, from_request(RANGE, settings, ["x"]))


def test_each_customers_fate_and_the_cohorts(db, settings, stories):
    found = figures(db, settings)
    assert found["team"]["customers"] == 5, "eve's first complaint is before the range"
    assert found["team"]["counts"] == {"came_back_positive": 1, "new_complaint": 1, "left": 1, "quiet": 2}
    assert found["team"]["retained"] == 40.0 and found["team"]["churned"] == 20.0
    cohorts = {c["month"]: c for c in found["cohorts"]}
    assert cohorts["2026-10"]["counts"]["left"] == 1 and cohorts["2026-11"]["customers"] == 4


def test_answered_against_unanswered_and_fast_against_slow(db, settings, stories):
    compare = {c["name"]: c for c in figures(db, settings)["compare"]}
    assert compare["answered"]["customers"] == 3 and compare["unanswered"]["customers"] == 2
    assert compare["fast"]["counts"] == {"came_back_positive": 1, "new_complaint": 0, "left": 0, "quiet": 1}
    assert compare["slow"]["counts"]["new_complaint"] == 1
    assert compare["unanswered"]["churned"] == 50.0


def test_a_follow_up_to_our_reply_is_not_coming_back(db, settings, stories):
    later = later_posts(db)
    fay = [p for p in later if p["text"] == "@LuminaHelp thanks!"]
    assert fay and fay[0]["followup"] == 1
    assert retention.fate(fay) == "quiet"


def test_a_post_is_read_with_its_text_only_when_its_intents_are_not_stored(db, settings, stories):
    with db.atomic():
        db.execute("""UPDATE mentions SET intents = '["cancellation"]' WHERE external_id = '6'""")
    later = later_posts(db)
    switching = [p for p in later if p["id"] == store.mention_id(db, "x", "6")]
    assert switching[0]["text"] is None and retention.fate(switching) == "left", "the stored intent says it"
    coming_back = [p for p in later if p["id"] == store.mention_id(db, "x", "2")]
    assert coming_back[0]["text"] == "Lumina Mobile coverage is great now", "unscored: its words are read"
    assert figures(db, settings)["team"]["counts"]["left"] == 1


def later_posts(db) -> list[dict]:
    """Every later post of the test range's first complaints."""
    complaints = store.complaint_histories(db, "2026-10-01T00:00:00Z", "2026-11-19T00:00:00Z", ["Lumina Mobile"], 100)
    return [p for c in complaints for p in c["posts"]]


def test_each_complaint_comes_once_newest_first_with_its_later_posts_oldest_first(db, stories):
    complaints = store.complaint_histories(db, "2026-10-01T00:00:00Z", "2026-11-19T00:00:00Z", ["Lumina Mobile"], 100)
    ids = {n: store.mention_id(db, "x", str(n)) for n in range(1, 12)}
    assert [c["id"] for c in complaints] == [ids[10], ids[7], ids[3], ids[1], ids[5]], "eve complained before"
    by_id = {c["id"]: c for c in complaints}
    assert [p["id"] for p in by_id[ids[10]]["posts"]] == [ids[11]] and by_id[ids[10]]["posts"][0]["followup"] == 1
    assert by_id[ids[7]]["posts"] == [], "dev has not posted since"
    assert by_id[ids[1]]["first_response_at"] == "2026-11-02T09:20:00Z"
    newest = store.complaint_histories(db, "2026-10-01T00:00:00Z", "2026-11-19T00:00:00Z", ["Lumina Mobile"], 2)
    assert [c["id"] for c in newest] == [ids[10], ids[7]]


@pytest.mark.sqlite_only
def test_sqlite_reads_later_posts_from_the_author_index_alone(db):
    sql = store.outcomes._COMPLAINT_HISTORIES.format(brands="?")
    found = " | ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", ["a", "z", "Parcelo", 10]).fetchall())
    assert "SEARCH p USING COVERING INDEX mentions_author" in found, found
    assert "SEARCH s USING INDEX complaint_starts_newest" in found, found


def test_retention_csv_section(db, settings, stories, client):
    from browser_helpers import add_users, login

    add_users(db)
    login(client, "sam")
    text = client.get("/dashboard/metrics/retention.csv", query_string=RANGE).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    by_name = {(r["group"], r["name"]): r for r in rows}
    assert by_name[("compare", "unanswered")]["left"] == "1"
    assert by_name[("cohort", "2026-11")]["customers"] == "4"
    page = client.get("/dashboard/", query_string=RANGE).get_data(as_text=True)
    assert 'id="retention-cohorts"' in page and "2026-10" in page


# --- complaints into improvements -------------------------------------------------------


def themed(db, n: int, theme: str, sentiment: str, at: str) -> None:
    """A Lumina Mobile mention with one intent."""
    store.upsert_mentions(db, [{"platform": "x", "external_id": f"t{n}", "brand": "Lumina Mobile", "query": "q",
                                "text": f"{theme} story {n}", "author_id": f"a{n}", "created_at": at}])  # fmt: skip
    db.execute(
        "UPDATE mentions SET sentiment = ?, intents = ? WHERE external_id = ?",
        [sentiment, f'["{theme}"]', f"t{n}"],
    )


def test_rising_themes_week_over_week_and_a_fix_that_worked(db, settings, client):
    from browser_helpers import add_users, csrf_from, login

    for n in range(6):  # delivery complaints: 1 a day before the fix on 2026-11-10, fewer after
        themed(db, n, "delivery", "negative", f"2026-11-0{n + 2}T10:00:00Z")
    themed(db, 10, "delivery", "negative", "2026-11-12T10:00:00Z")
    themed(db, 11, "delivery", "positive", "2026-11-13T10:00:00Z")
    for n in range(20, 24):  # billing rises in the last week
        themed(db, n, "billing", "negative", f"2026-11-1{n - 18}T10:00:00Z")
    add_users(db)
    login(client, "sam")
    page = client.get("/dashboard/", query_string=RANGE).get_data(as_text=True)
    sent = client.post("/dashboard/fixes", data={"brand": "Lumina Mobile", "theme": "delivery", "note": "courier change",
                                                "fixed_on": "2026-11-10", "csrf_token": csrf_from(page)})  # fmt: skip
    assert sent.status_code == 302 and store.list_fixes(db)[0]["note"] == "courier change"
    bad = client.post("/dashboard/fixes", data={"brand": "Lumina Mobile", "theme": "delivery", "note": "x",
                                               "fixed_on": "soon", "csrf_token": csrf_from(page)})  # fmt: skip
    assert bad.status_code == 302 and len(store.list_fixes(db)) == 1
    text = client.get("/dashboard/metrics/improvements.csv", query_string=RANGE).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    weeks = [r for r in rows if r["kind"] == "week" and r["theme"] == "billing"]
    assert weeks[-1]["complaints"] == "4", "billing's four complaints fall in the last week"
    before, after = [r for r in rows if r["kind"] == "fix"]
    assert (before["period"], before["complaints"]) == ("before", "6")
    assert (after["period"], after["complaints"], after["mentions"]) == ("after", "1", "2")
    assert float(after["complaints_per_day_change_percent"]) < 0, "the fix worked"
    page = client.get("/dashboard/", query_string=RANGE).get_data(as_text=True)
    assert "courier change" in page and 'id="theme-weeks"' in page
