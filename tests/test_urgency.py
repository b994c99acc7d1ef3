"""Urgency: each signal moves the score the way it should, in English, Spanish and Thai."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from classifier import urgency
from settings import UrgencyWeights

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEIGHTS = UrgencyWeights()
SLA = 60

BASE = urgency.Signals(
    text="Just tried the Parcelo app",
    negative=0.2,
    positive=0.2,
    author_reach=100,
    like_count=1,
    created_at=NOW - timedelta(minutes=10),
    now=NOW,
)


def score(signals: urgency.Signals) -> urgency.Urgency:
    """Urgency with the default weights."""
    return urgency.score(signals, WEIGHTS, SLA)


@pytest.mark.parametrize(
    "signal, low, high",
    [
        ("negative", 0.05, 0.95),
        ("mentions_brand_handle", False, True),
        ("in_reply_to_brand", False, True),
        ("author_reach", 10, 500_000),
        ("like_count", 0, 2_000),
        ("repost_count", 0, 300),
        ("reply_count", 0, 300),
        ("created_at", NOW - timedelta(minutes=1), NOW - timedelta(minutes=55)),
    ],
)
def test_signal_raises_urgency(signal, low, high):
    """Raising one signal, all else equal, raises urgency."""
    assert score(replace(BASE, **{signal: high})).score > score(replace(BASE, **{signal: low})).score


@pytest.mark.parametrize(
    "text",
    [
        "@ParceloHQ my parcel never arrived",
        "I was charged twice this month, I want a refund",
        "the Lumina network is down again, no signal",
        "locked out of my account, password reset never arrives",
        "Parcelo lost it again, I'm cancelling",
        "I'll be talking to my lawyer about this",
        "the phone overheated and started smoking",
        "my account was hacked and my personal data leaked",
        "got a fake text pretending to be Parcelo, is this a scam",
        "how do I change my plan?",
        "mi paquete no ha llegado",
        "me cobraron dos veces la factura",
        "sin señal desde ayer, el internet no funciona",
        "พัสดุยังไม่ถึงเลย",
        "เน็ตหลุด ใช้ไม่ได้ทั้งวัน",
        "มิจฉาชีพแอบอ้างเป็นบริษัท",
    ],
)
def test_problem_intent_raises_urgency(text):
    """A complaint in any of the three languages outranks the same post without one."""
    with_intent = score(replace(BASE, text=text))
    assert with_intent.intents
    assert with_intent.score > score(BASE).score
    assert with_intent.parts["intent"] > 0


@pytest.mark.parametrize(
    "text, intent",
    [
        ("my package never arrived", "delivery"),
        ("double charged on my bill", "billing"),
        ("service is down in Leeds", "outage"),
        ("can't log in to the app", "account_access"),
        ("switching to Voltel next month", "cancellation"),
        ("reporting you to the FCC", "legal_threat"),
        ("battery swelling, it's dangerous", "safety"),
        ("there was a data breach", "privacy_security"),
        ("this is a phishing email", "fraud_phishing"),
        ("¿cuándo llega mi pedido?", "question"),
        ("voy a cancelar mi contrato", "cancellation"),
        ("จะฟ้อง สคบ", "legal_threat"),
    ],
)
def test_detect_intents(text, intent):
    """The intent detector names what a complaint is about."""
    assert intent in urgency.detect_intents(text)


@pytest.mark.parametrize(
    "text",
    ["Just had lunch near the Parcelo office", "Lumina keynote starts at 10", "วันนี้อากาศดีมาก"],
)
def test_no_intent_in_chatter(text):
    """Ordinary chatter carries no complaint intent."""
    assert urgency.detect_intents(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "GIVEAWAY! Follow & RT to win a phone, use code WIN50",
        "Sorteo: gana un celular, código de descuento LUMI",
        "โปรโมชั่นพิเศษ ลดราคา สมัครเลย",
        "Buy now #deal #sale #promo #phone https://a.example https://b.example",
    ],
)
def test_spam_lowers_urgency(text):
    """Promotion and spam are pushed down."""
    spammy = score(replace(BASE, text=text))
    assert spammy.parts["spam"] < 0
    assert spammy.score < score(BASE).score or spammy.score == 0


def test_fraud_report_is_not_spam():
    """A warning about a scam that quotes promo words keeps its urgency."""
    result = score(replace(BASE, text="Scam alert: fake Parcelo giveaway asking for card details"))
    assert result.parts["spam"] == 0
    assert "fraud_phishing" in result.intents


def test_waiting_stops_once_answered():
    """Waiting points grow to the SLA and vanish once the brand has responded."""
    waiting = replace(BASE, created_at=NOW - timedelta(hours=3))
    assert score(waiting).parts["waiting"] == WEIGHTS.waiting
    answered = replace(waiting, first_response_at=NOW - timedelta(hours=2))
    assert score(answered).parts["waiting"] == 0


def test_praise_damps_intent():
    """A thank-you that mentions a delivery ranks below a delivery complaint."""
    praise = replace(BASE, text="my package arrived early, thanks!", negative=0.02, positive=0.95)
    complaint = replace(BASE, text="my package never arrived", negative=0.9, positive=0.02)
    assert score(complaint).score > score(praise).score


def test_unreliable_sentiment_counts_less():
    """When the model can't read the language, negativity earns half its points."""
    reliable = score(replace(BASE, negative=0.9))
    unreliable = score(replace(BASE, negative=0.9, sentiment_reliable=False))
    assert unreliable.parts["negativity"] == pytest.approx(reliable.parts["negativity"] / 2)


def test_score_is_clamped_and_explained():
    """Everything at once stays at 100, and the parts explain the total."""
    loud = urgency.Signals(
        text="@LuminaHelp outage, charged twice, hacked account, I'm calling my lawyer and cancelling",
        negative=1.0,
        in_reply_to_brand=True,
        author_reach=10_000_000,
        like_count=100_000,
        created_at=NOW - timedelta(days=1),
        now=NOW,
    )
    result = score(loud)
    assert result.score == 100
    assert set(result.parts) == {
        "negativity", "intent", "directness", "reach", "engagement", "waiting", "spam"
    }  # fmt: skip
    assert sum(result.parts.values()) >= 100


def test_weights_come_from_settings():
    """Zeroing a weight removes that signal's contribution."""
    no_reach = replace(WEIGHTS, reach=0.0)
    result = urgency.score(replace(BASE, author_reach=1_000_000), no_reach, SLA)
    assert result.parts["reach"] == 0
