"""Outcome rules: every rule in English and Thai, the silent window's edge in several time zones, the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

import clock
import store
from reputation import outcomes

OURS = {"luminahelp", "luminamobile", "luminamobile_official"}
ANSWERED = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)


def complaint(
    text: str = "@LuminaHelp my bill doubled this month", negative: float = 0.6, intents=("billing",)
) -> dict:
    """A scored complaint."""
    scores = {"negative": negative, "neutral": 1 - negative, "positive": 0.0}
    return {
        "text": text,
        "sentiment": "negative",
        "sentiment_scores": json.dumps(scores),
        "intents": json.dumps(list(intents)),
    }


def follow(
    text: str, sentiment: str | None = None, negative: float = 0.0, by_customer: int = 1, n: int = 1
) -> dict:
    """A follow-up: scored by the model when ``sentiment`` is given, else as the model could not read it."""
    scores = {"negative": negative, "neutral": 0.0, "positive": 0.0} if sentiment else None
    return {
        "id": n, "text": text, "by_customer": by_customer, "url": f"https://x.com/i/web/status/{n}",
        "created_at": "2026-11-19T08:00:00Z", "sentiment": sentiment,
        "sentiment_scores": json.dumps(scores) if scores else None, "intents": None,
        "scored_at": "2026-11-19T08:01:00Z" if sentiment else None, "sentiment_low_confidence": 0 if sentiment else 1,
    }  # fmt: skip


def judge(
    followups: list[dict], mention: dict | None = None, now: datetime | None = None
) -> outcomes.Verdict:
    """The rules with a 72-hour window."""
    return outcomes.judge(
        mention or complaint(), followups, ANSWERED, now or ANSWERED + timedelta(hours=1), 72, OURS
    )


@pytest.mark.parametrize(
    ("text", "sentiment", "negative", "outcome", "rule"),
    [
        ("@LuminaHelp thanks, it works now", "positive", 0.01, "satisfied", "thanks"),
        ("@LuminaHelp all good on my side now", "positive", 0.02, "satisfied", "positive"),
        ("@LuminaHelp ขอบคุณมากค่ะ ใช้ได้แล้ว", None, 0.0, "satisfied", "thanks"),
        ("@LuminaHelp it is still not working", "negative", 0.7, "still_unhappy", "negative"),
        ("@LuminaHelp ok but what about the bill", "neutral", 0.1, "still_unhappy", "repeats"),
        ("@LuminaHelp ยังไม่ได้เงินคืนเลย", None, 0.0, "still_unhappy", "repeats"),
        ("@LuminaHelp thanks for nothing", None, 0.0, "still_unhappy", "repeats"),
        ("@LuminaHelp @BBCWatchdog look how they treat customers", "negative", 0.7, "escalated", "tagged_others"),
        ("@LuminaHelp I'm writing to the regulator today", "neutral", 0.3, "escalated", "press_or_regulator"),
        ("@LuminaHelp จะไปร้องเรียน สคบ แล้วนะ", None, 0.0, "escalated", "press_or_regulator"),
        ("@LuminaHelp this is a joke, worst company ever", "negative", 0.97, "escalated", "more_negative"),
        ("@LuminaHelp I'm cancelling and switching to Voltel", "negative", 0.8, "churn_risk", "churn"),
        ("@LuminaHelp ย้ายค่ายแล้ว บาย", None, 0.0, "churn_risk", "churn"),
        ("@LuminaHelp ok, sent you a DM", "neutral", 0.1, "neutral", "neutral"),
    ],
)  # fmt: skip
def test_each_rule_with_its_evidence(text, sentiment, negative, outcome, rule):
    verdict = judge([follow(text, sentiment, negative)])
    assert (verdict.outcome, verdict.evidence["rule"]) == (outcome, rule)
    assert verdict.evidence["quote"] == text and verdict.followup_id == 1
    assert verdict.evidence["why"]


def test_churn_outranks_a_later_thank_you_and_escalation_outranks_the_latest_word():
    leaving = [
        follow("@LuminaHelp I'm cancelling my contract", "negative", 0.8, n=1),
        follow("@LuminaHelp thanks", "positive", n=2),
    ]
    assert judge(leaving).outcome == "churn_risk"
    escalating = [
        follow("@LuminaHelp @ConsumerDesk see this", "negative", 0.6, n=1),
        follow("@LuminaHelp ok thanks", "positive", n=2),
    ]
    assert judge(escalating).outcome == "escalated"


def test_the_latest_word_decides_and_a_negative_complaint_that_ends_happy_is_recovered():
    verdict = judge(
        [
            follow("@LuminaHelp still nothing", "negative", 0.6, n=1),
            follow("@LuminaHelp thank you!", "positive", n=2),
        ]
    )
    assert verdict.outcome == "satisfied" and verdict.recovered and verdict.followup_id == 2


def test_others_answering_never_decide_for_the_customer():
    bystander = follow("@LuminaHelp same, I'm switching to Voltel", "negative", 0.9, by_customer=0)
    assert judge([bystander]).outcome == "no_reply_yet"


def test_tagging_those_the_complaint_already_tagged_is_no_escalation():
    mention = complaint("@LuminaHelp @partner_acc my bill doubled")
    assert judge([follow("@LuminaHelp @partner_acc thanks both", "positive")], mention).outcome == "satisfied"


EDGE = ANSWERED + timedelta(hours=72)


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-8))])
@pytest.mark.parametrize(("offset", "outcome"), [(-1, "no_reply_yet"), (0, "silent"), (1, "silent")])
def test_silent_window_edge_in_any_time_zone(zone, offset, outcome):
    now = (EDGE + timedelta(seconds=offset)).astimezone(zone)
    verdict = judge([], now=now)
    assert verdict.outcome == outcome
    assert verdict.evidence["rule"] == ("waiting" if outcome == "no_reply_yet" else "silent")


# --- through the store ------------------------------------------------------------------


def seed_answered(
    db, text: str = "@LuminaHelp my parcel never came", sent_at: str = "2026-11-18T23:30:00Z"
) -> int:
    """A scored complaint by dana_k answered by agent at ``sent_at``; return its id."""
    row = {"platform": "x", "external_id": "100", "brand": "Lumina Mobile", "query": "q", "text": text,
           "author_id": "7", "author_handle": "dana_k", "created_at": "2026-11-18T20:00:00Z"}  # fmt: skip
    store.upsert_mentions(db, [row])
    mention_id = store.mention_id(db, "x", "100")
    db.execute(
        "UPDATE mentions SET sentiment = 'negative', intents = ? WHERE id = ?", ['["delivery"]', mention_id]
    )
    clock.start_at(sent_at, frozen=True)
    reply, _ = store.start_reply(db, mention_id, "k1", "agent", "Sorry!")
    store.finish_reply(
        db, reply["id"], "sent", "agent", external_id="200", url="https://x.com/i/web/status/200"
    )
    return mention_id


@pytest.mark.parametrize(("now", "outcome"), [
    ("2026-11-22T06:29:59+07:00", "no_reply_yet"),  # 23:29:59 UTC on the 21st: one second inside the window
    ("2026-11-22T06:30:00+07:00", "silent"),
    ("2026-11-21T15:30:00-08:00", "silent"),
])  # fmt: skip
def test_refresh_decides_silence_at_the_edge_whatever_the_clock_zone(settings, db, now, outcome):
    mention_id = seed_answered(db)
    clock.start_at(now, frozen=True)
    outcomes.refresh(db, settings)
    assert store.get_outcome(db, mention_id)["outcome"] == outcome


def test_counts_move_a_wait_and_its_rating_to_silent_once_the_window_has_passed(settings, db):
    mention_id = seed_answered(db)
    clock.start_at("2026-11-19T09:00:00Z", frozen=True)
    outcomes.refresh(db, settings)
    reply_id = store.get_outcome(db, mention_id)["reply_id"]
    store.record_csat(db, reply_id, mention_id, 5, None)
    span = ("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z", ["Lumina Mobile"], ["x"])

    def counted(silent_before: str) -> dict:
        return {r["outcome"]: (r["n"], r["ratings"], r["rating_sum"], r["good"])
                for r in store.outcome_counts(db, *span, silent_before)}  # fmt: skip

    assert counted("2026-11-18T23:30:00Z") == {"no_reply_yet": (1, 1, 5, 1)}, "answered at the edge: still waiting"
    assert counted("2026-11-18T23:30:01Z") == {"silent": (1, 1, 5, 1)}


def test_refresh_links_a_thai_follow_up_and_recomputes_when_more_arrive(settings, db):
    mention_id = seed_answered(db)
    clock.start_at("2026-11-19T09:00:00Z", frozen=True)
    outcomes.refresh(db, settings)
    assert store.get_outcome(db, mention_id)["outcome"] == "no_reply_yet"
    store.upsert_mentions(db, [{"platform": "x", "external_id": "300", "brand": "Lumina Mobile", "query": "followups:0",
                                "text": "@LuminaHelp ยังไม่ได้รับของเลยค่ะ", "author_id": "7", "in_reply_to_id": "200",
                                "created_at": "2026-11-19T08:00:00Z"}])  # fmt: skip
    outcomes.refresh(db, settings)
    decided = store.get_outcome(db, mention_id)
    assert decided["outcome"] == "still_unhappy" and decided["evidence"]["cue"] == "ยังไม่"
    assert decided["theme"] == "delivery" and decided["agent"] == "agent"
    store.upsert_mentions(db, [{"platform": "x", "external_id": "301", "brand": "Lumina Mobile", "query": "followups:0",
                                "text": "@LuminaHelp ได้รับแล้ว ขอบคุณค่ะ", "author_id": "7", "in_reply_to_id": "300",
                                "created_at": "2026-11-19T10:00:00Z"}])  # fmt: skip
    outcomes.refresh(db, settings)
    decided = store.get_outcome(db, mention_id)
    assert decided["outcome"] == "satisfied" and decided["recovered"] == 1, (
        "the customer's answer to their own follow-up"
    )
    assert [f["external_id"] for f in store.mention_followups(db, mention_id)] == ["300", "301"]


def test_inbox_filter_shows_customers_worth_a_second_reply(settings, db, client):
    from browser_helpers import add_mention, add_users, login

    add_users(db)
    texts = {
        "unhappy": "@LuminaHelp my bill doubled",
        "happy": "@LuminaHelp my SIM is dead",
        "leaving": "@LuminaHelp no signal",
    }
    ids = {k: add_mention(db, settings, t, author=k, author_id=k, minutes_ago=50) for k, t in texts.items()}
    answers = {
        "unhappy": "still waiting for the refund",
        "happy": "thanks, works now",
        "leaving": "I'm switching to Voltel",
    }
    for n, (who, said) in enumerate(answers.items()):
        reply, _ = store.start_reply(db, ids[who], f"k{n}", "sam", "Sorry!")
        store.finish_reply(db, reply["id"], "sent", "sam", external_id=f"r{n}")
        store.upsert_mentions(db, [{"platform": "x", "external_id": f"f{n}", "brand": "Lumina Mobile", "query": "q",
                                    "text": f"@LuminaHelp {said}", "author_id": who, "author_handle": who,
                                    "in_reply_to_id": f"r{n}", "created_at": store.utcnow()}])  # fmt: skip
    outcomes.refresh(db, settings)
    login(client, "sam")
    page = client.get("/?outcome=second_reply&status=all").get_data(as_text=True)
    assert texts["unhappy"] in page and texts["leaving"] in page and texts["happy"] not in page
    churn = client.get("/?outcome=churn_risk&status=all").get_data(as_text=True)
    assert texts["leaving"] in churn and texts["unhappy"] not in churn
    assert client.get("/?outcome=bogus").status_code == 200, "an unknown outcome is ignored"
