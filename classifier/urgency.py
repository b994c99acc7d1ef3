"""Urgency: a pure, explainable 0-100 score of how much a mention needs a person now.

Each signal earns at most its weight from `[urgency]` in config.toml; the parts are
summed, the spam penalty subtracted, and the total clamped to 0..100. The parts
and the detected intents are returned so the console can say why a card is on top.
Intent and spam cues cover English, Spanish and Thai, so mentions the English
sentiment model cannot read are still ranked by what they ask for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from settings import UrgencyWeights


def _words(*phrases: str) -> str:
    """Alternatives matched as whole words, for languages written with spaces."""
    return r"\b(?:" + "|".join(phrases) + r")\b"


def _chunks(*phrases: str) -> str:
    """Alternatives matched anywhere, for Thai, which has no spaces between words."""
    return "(?:" + "|".join(re.escape(p) for p in phrases) + ")"


# Each intent: how serious it is (0..1) and its cues in English, Spanish and Thai.
INTENT_CUES: dict[str, tuple[float, str]] = {
    "safety": (1.0, "|".join([
        _words(r"fire", r"caught fire", r"smok(?:e|ing)", r"overheat\w*", r"explod\w*", r"burn(?:ed|t|s)?",
               r"injur\w*", r"hurt", r"dangerous", r"unsafe", r"electric shock", r"swollen battery",
               r"battery (?:is )?swelling", r"emergency", r"911"),
        _words(r"incendio", r"fuego", r"explot\w*", r"sobrecalent\w*", r"peligro\w*", r"quemad\w*",
               r"herid[oa]s?", r"emergencia"),
        _chunks("ไฟไหม้", "ระเบิด", "อันตราย", "ร้อนจัด", "บาดเจ็บ", "แบตบวม", "ไฟช็อต", "ไฟดูด"),
    ])),
    "fraud_phishing": (1.0, "|".join([
        _words(r"scam\w*", r"phishing", r"fraud\w*", r"fake (?:text|sms|email|site|website|account|page)",
               r"pretending to be", r"impersonat\w*", r"unauthori[sz]ed (?:charge|transaction|payment)s?",
               r"stole", r"stolen"),
        _words(r"estaf\w*", r"fraude", r"suplant\w*", r"me robaron", r"robo", r"mensaje falso"),
        _chunks("มิจฉาชีพ", "หลอกลวง", "โกง", "ฟิชชิ่ง", "แอบอ้าง", "SMS ปลอม", "ข้อความปลอม"),
    ])),
    "privacy_security": (1.0, "|".join([
        _words(r"data breach", r"breach", r"leak(?:ed|s)?", r"hack(?:ed|er|ers)?", r"my (?:personal )?data",
               r"personal (?:info|information|details)", r"privacy", r"someone (?:accessed|logged into)",
               r"sim swap\w*"),
        _words(r"hacke\w*", r"filtraci[oó]n", r"mis datos", r"datos personales", r"privacidad"),
        _chunks("ข้อมูลรั่ว", "โดนแฮก", "ถูกแฮก", "ข้อมูลส่วนตัว", "ข้อมูลหลุด"),
    ])),
    "legal_threat": (0.9, "|".join([
        _words(r"lawyer", r"attorney", r"sue", r"suing", r"lawsuit", r"legal action", r"small claims",
               r"regulator", r"fcc", r"ofcom", r"ombudsman", r"trading standards", r"consumer protection",
               r"bbb", r"report(?:ing)? you to", r"file a complaint"),
        _words(r"abogad[oa]", r"demanda\w*", r"denunci\w*", r"profeco", r"defensa del consumidor"),
        _chunks("ฟ้อง", "ทนาย", "สคบ", "กสทช", "ร้องเรียน", "แจ้งความ"),
    ])),
    "outage": (0.85, "|".join([
        _words(r"outage", r"(?:is|are|been|went|still|service|network|app|site) (?:completely )?down",
               r"down again", r"not working", r"(?:doesn'?t|isn'?t|won'?t|does not|is not) work(?:ing)?",
               r"stopped working", r"no (?:service|signal|internet|data|coverage)", r"(?:can'?t|cannot) connect",
               r"keeps? (?:crashing|dropping|disconnecting)", r"dropp(?:ed|ing) calls?", r"won'?t load",
               r"error \d+", r"offline"),
        _words(r"no funciona", r"sin (?:servicio|señal|internet|datos|cobertura)", r"ca[ií]d[oa]", r"se cae",
               r"no carga", r"falla\w*"),
        _chunks("ใช้ไม่ได้", "เน็ตหลุด", "ไม่มีสัญญาณ", "สัญญาณหาย", "ล่ม", "เน็ตช้า", "โทรไม่ติด", "เน็ตใช้ไม่ได้"),
    ])),
    "account_access": (0.85, "|".join([
        _words(r"locked out", r"(?:can'?t|cannot|unable to) (?:log ?in|sign in|access)", r"login",
               r"password reset", r"reset (?:my )?password", r"account (?:is )?(?:locked|suspended|blocked|disabled)",
               r"verification code", r"2fa", r"otp"),
        _words(r"no puedo (?:entrar|acceder|iniciar sesi[oó]n)", r"cuenta (?:bloqueada|suspendida)",
               r"contraseña", r"c[oó]digo de verificaci[oó]n"),
        _chunks("เข้าสู่ระบบไม่ได้", "ล็อกอินไม่ได้", "บัญชีถูกล็อก", "รหัสผ่าน", "เข้าแอปไม่ได้", "รหัส OTP"),
    ])),
    "billing": (0.85, "|".join([
        _words(r"(?:over|double|twice )?charged", r"charge[sd]?", r"bill(?:ed|ing)?", r"invoice", r"refund\w*",
               r"fees?", r"payment", r"money back", r"overcharg\w*"),
        _words(r"cobr\w*", r"factura\w*", r"reembols\w*", r"cargo", r"me cobraron", r"devoluci[oó]n"),
        _chunks("เก็บเงิน", "ค่าบริการ", "บิล", "คืนเงิน", "หักเงิน", "เรียกเก็บ", "ค่าธรรมเนียม"),
    ])),
    "delivery": (0.8, "|".join([
        _words(r"never (?:arrived|came|got it)", r"(?:hasn'?t|has not|didn'?t|did not|still not) (?:arrived|come|been delivered)",
               r"(?:package|parcel|order|delivery|shipment)s?", r"tracking", r"courier", r"driver",
               r"delivered to the wrong", r"left (?:it )?(?:outside|in the rain)", r"missing"),
        _words(r"paquete", r"env[ií]o", r"entrega", r"no (?:ha )?lleg[oó]", r"no ha llegado", r"repartidor",
               r"pedido"),
        _chunks("พัสดุ", "ของยังไม่ถึง", "ยังไม่ได้รับ", "ส่งของ", "ขนส่ง", "คนส่งของ", "ของหาย", "เลขพัสดุ"),
    ])),
    "cancellation": (0.8, "|".join([
        _words(r"cancel\w*", r"switch(?:ing|ed)? to", r"leaving (?:you|for)", r"done with", r"last straw",
               r"clos(?:e|ing) my account", r"(?:moving|moved) to", r"i'?m leaving",
               r"port(?:ing)? my number", r"never (?:using|ordering|buying)"),
        _words(r"cancelar\w*", r"darme de baja", r"me cambio a", r"cambiarme a", r"me voy a"),
        _chunks("ยกเลิก", "ย้ายค่าย", "เลิกใช้", "เปลี่ยนไปใช้", "ย้ายไปใช้", "ไม่ใช้แล้ว"),
    ])),
    "question": (0.5, "|".join([
        r"[?？¿]",
        _words(r"how do i", r"how can i", r"when will", r"anyone know", r"any update", r"help me",
               r"please help", r"need help"),
        _words(r"ayuda", r"c[oó]mo puedo", r"cu[aá]ndo"),
        _chunks("ไหม", "มั้ย", "ยังไง", "เมื่อไหร่", "ทำไม", "ช่วยด้วย", "ช่วยหน่อย"),
    ])),
}  # fmt: skip

_INTENT_PATTERNS = {name: re.compile(cues, re.IGNORECASE) for name, (_, cues) in INTENT_CUES.items()}

# Promotion and spam cues, each worth the given share of the full penalty.
SPAM_CUES: list[tuple[float, re.Pattern]] = [
    (0.6, re.compile(_words(r"giveaway", r"promo code", r"coupon", r"discount code", r"use code", r"\d+% off",
                            r"follow (?:and|&) (?:rt|retweet)", r"free followers", r"click (?:the )?link",
                            r"link in bio", r"dm (?:me|us) for", r"earn \$?\d+", r"crypto", r"airdrop",
                            r"limited offer", r"buy now", r"win an?"), re.IGNORECASE)),
    (0.6, re.compile(_words(r"sorteo", r"c[oó]digo de descuento", r"cup[oó]n", r"gana\w*", r"oferta",
                            r"\d+% de descuento", r"s[ií]gueme"), re.IGNORECASE)),
    (0.6, re.compile(_chunks("โปรโมชั่น", "ลดราคา", "แจกฟรี", "สมัครเลย", "คลิกลิงก์", "รับส่วนลด", "ลุ้นรับ"))),
]  # fmt: skip

# Thanks and praise, used only where the sentiment model can't read the language.
PRAISE_CUES = re.compile(
    "|".join([
        _words(r"thanks?", r"thank you", r"love", r"great", r"amazing", r"awesome"),
        _words(r"gracias", r"excelente", r"genial", r"perfecto", r"r[aá]pid[ií]simo", r"me encanta", r"recomiendo"),
        _chunks("ขอบคุณ", "ประทับใจ", "ดีมาก", "เยี่ยม", "ชอบมาก"),
    ]),
    re.IGNORECASE,
)  # fmt: skip

# A safety or fraud report must never be buried as spam just because it quotes a scam.
_SPAM_IMMUNE = {"safety", "fraud_phishing", "privacy_security"}


@dataclass(frozen=True)
class Signals:
    """What urgency is computed from: the text, its sentiment and its metadata."""

    text: str
    negative: float = 0.0
    positive: float = 0.0
    sentiment_reliable: bool = True
    mentions_brand_handle: bool = False
    in_reply_to_brand: bool = False
    author_reach: int = 0
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    created_at: datetime | None = None
    first_response_at: datetime | None = None
    now: datetime | None = None


@dataclass(frozen=True)
class Urgency:
    """A 0-100 score, each signal's contribution, and the intents found in the text."""

    score: float
    parts: dict[str, float] = field(default_factory=dict)
    intents: list[str] = field(default_factory=list)


def detect_intents(text: str) -> list[str]:
    """Problem and complaint intents found in a text, most serious first."""
    return [name for name, pattern in _INTENT_PATTERNS.items() if pattern.search(text or "")]


def intent_strength(intents: list[str]) -> float:
    """0..1: the most serious intent, plus a little for each further one."""
    if not intents:
        return 0.0
    severities = sorted((INTENT_CUES[name][0] for name in intents), reverse=True)
    return min(1.0, severities[0] + 0.1 * (len(severities) - 1))


def spam_likelihood(text: str, intents: list[str] | None = None) -> float:
    """0..1: how much a text looks like promotion or spam."""
    text = text or ""
    if _SPAM_IMMUNE.intersection(intents or []):
        return 0.0
    score = sum(weight for weight, pattern in SPAM_CUES if pattern.search(text))
    score += 0.3 * (len(re.findall(r"#\w+", text)) >= 4)
    score += 0.3 * (len(re.findall(r"https?://", text)) >= 2)
    score += 0.3 * (len(re.findall(r"@\w+", text)) >= 5)
    return min(1.0, score)


def log_share(value: float, full_at: float) -> float:
    """0..1 on a log scale, reaching 1 at `full_at`."""
    return min(1.0, math.log10(1 + max(0.0, value)) / math.log10(1 + full_at))


def waiting_share(signals: Signals, sla_minutes: float) -> float:
    """0..1: time waiting for a first response against the SLA; 0 once answered."""
    if signals.first_response_at or not signals.created_at or not signals.now:
        return 0.0
    minutes = (signals.now - signals.created_at).total_seconds() / 60
    return min(1.0, max(0.0, minutes / max(sla_minutes, 1.0)))


def negativity_share(signals: Signals) -> float:
    """0..1 from the sentiment model; halved when the model can't read the language."""
    return signals.negative if signals.sentiment_reliable else 0.5 * signals.negative


def intent_share(signals: Signals, intents: list[str]) -> float:
    """0..1: intent strength, damped when the post is happy (a fix, a thank-you)."""
    if signals.sentiment_reliable:
        damping = 1.0 - 0.6 * signals.positive
    else:
        damping = 0.5 if PRAISE_CUES.search(signals.text) else 1.0
    return intent_strength(intents) * damping


def directness_share(signals: Signals) -> float:
    """1 for a reply to the brand, 0.75 for tagging its handle, else 0."""
    if signals.in_reply_to_brand:
        return 1.0
    return 0.75 if signals.mentions_brand_handle else 0.0


def score(signals: Signals, weights: UrgencyWeights, sla_minutes: float) -> Urgency:
    """Combine the signals into a 0..100 urgency with its parts and intents."""
    intents = detect_intents(signals.text)
    engagement = signals.like_count + 2 * (signals.repost_count + signals.reply_count)
    parts = {
        "negativity": weights.negativity * negativity_share(signals),
        "intent": weights.intent * intent_share(signals, intents),
        "directness": weights.directness * directness_share(signals),
        "reach": weights.reach * log_share(signals.author_reach, 1_000_000),
        "engagement": weights.engagement * log_share(engagement, 10_000),
        "waiting": weights.waiting * waiting_share(signals, sla_minutes),
        "spam": -weights.spam_penalty * spam_likelihood(signals.text, intents),
    }
    parts = {name: round(value, 2) + 0.0 for name, value in parts.items()}
    total = min(100.0, max(0.0, sum(parts.values())))
    return Urgency(round(total, 2), parts, intents)
