"""Did answering work? The outcome of each answered mention, decided from the customer's follow-ups.

The rules, strongest first (README, "Outcomes", says the same for staff):

1. churn risk: a follow-up by the customer says they are leaving, cancelling or switching
   (the ``cancellation`` intent of classifier/urgency.py, English, Spanish and Thai);
2. escalated: a follow-up tags other accounts in its own words, calls in the press or a
   regulator, or is clearly more negative than the complaint was;
3. the customer's latest follow-up then decides: still unhappy when it is negative or
   repeats the complaint; satisfied when it is positive or thanks us; else neutral;
4. with no follow-up from the customer: no reply yet, and silent once ``[outcomes]
   silent_hours`` have passed since our reply.

A follow-up is any stored post answering our reply (or the customer's answer to it), linked
by the platform's reply id, never by time: one the customer posted seconds before our reply
was recorded as sent still counts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import clock
import store
from classifier import urgency
from settings import Settings

WORSE_BY = 0.15  # how much more negative (model probability) a follow-up must be to count as escalating
CHURN_INTENT = "cancellation"
NOT_THEMES = {"question"}

REPEAT_CUES = re.compile(
    "|".join([
        urgency._words(r"still", r"again", r"same (?:problem|issue)", r"nothing (?:has )?changed", r"not fixed",
                       r"(?:didn'?t|did not|doesn'?t|does not) help", r"thanks for nothing", r"useless",
                       r"no one (?:has )?(?:answered|replied|called)", r"still waiting"),
        urgency._chunks("ยังไม่", "อีกแล้ว", "เหมือนเดิม", "ไม่ได้ช่วย", "ไม่ช่วยอะไร", "รอนานแล้ว"),
    ]),
    re.IGNORECASE,
)  # fmt: skip
ESCALATION_CUES = re.compile(
    "|".join([
        urgency._words(r"journalists?", r"reporters?", r"the press", r"news ?desk", r"going public", r"the media",
                       r"regulator", r"ombudsman", r"ofcom", r"fcc", r"ftc", r"consumer protection", r"lawyer",
                       r"sue", r"suing", r"trading standards", r"bbb"),
        urgency._chunks("นักข่าว", "สื่อ", "สคบ", "กสทช", "ร้องเรียน", "ฟ้อง", "ทนาย"),
    ]),
    re.IGNORECASE,
)  # fmt: skip
LEADING_HANDLES = re.compile(r"^(?:\s*[@＠]\w+)+\s*")
TAGS = re.compile(r"(?<![\w@/])(?:@(\w{1,30})|u/([\w-]{3,20}))")


@dataclass(frozen=True)
class Verdict:
    """An outcome, the evidence that decided it, and the follow-up it rests on."""

    outcome: str
    evidence: dict
    followup_id: int | None = None
    recovered: bool = False


def _decoded(value):
    """A JSON column's value (text is decoded; unreadable text is None)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def _scores(row: dict) -> dict:
    """A row's sentiment probabilities (empty when unscored)."""
    value = _decoded(row.get("sentiment_scores"))
    return value if isinstance(value, dict) else {}


def _intents(row: dict) -> list[str]:
    """A row's stored intents, or those its text shows when it is not scored yet."""
    value = _decoded(row.get("intents"))
    return list(value) if isinstance(value, list) else urgency.detect_intents(row.get("text") or "")


def theme_of(row: dict) -> str | None:
    """A complaint's theme: its most serious complaint intent (None for a plain question or none)."""
    return next((i for i in _intents(row) if i not in NOT_THEMES), None)


def own_words(text: str) -> str:
    """A post without the leading @handles the network adds to every reply."""
    return LEADING_HANDLES.sub("", text or "", count=1)


def tags(text: str) -> set[str]:
    """Accounts a text tags (@handle or u/name), lower case."""
    return {(a or b).lower() for a, b in TAGS.findall(text or "")}


def tagged_others(text: str, known: set[str]) -> list[str]:
    """Accounts a follow-up tags that are not ``known`` (the brand's, and those the complaint already tagged)."""
    found = [(a or b) for a, b in TAGS.findall(text or "")]
    return [name for name in dict.fromkeys(found) if name.lower() not in known]


def _reliable(row: dict) -> bool:
    """Whether the model could read the follow-up (scored and confident)."""
    return bool(row.get("scored_at")) and not row.get("sentiment_low_confidence")


def _evidence(rule: str, why: str, row: dict | None = None, cue: str | None = None) -> dict:
    """What decided an outcome, for the mention page and the exports."""
    found = {"rule": rule, "why": why}
    if row is not None:
        found.update(quote=(row.get("text") or "")[:280], url=row.get("url"), at=row.get("created_at"),
                     followup_id=row.get("id"), sentiment=row.get("sentiment"))  # fmt: skip
    if cue:
        found["cue"] = cue
    return found


def _churn(row: dict) -> Verdict | None:
    """Churn risk when the follow-up says the customer is leaving."""
    if CHURN_INTENT not in urgency.detect_intents(row.get("text") or ""):
        return None
    cue = urgency._INTENT_PATTERNS[CHURN_INTENT].search(row.get("text") or "")
    return Verdict("churn_risk", _evidence("churn", "The customer says they are leaving, cancelling or switching.",
                                           row, cue.group(0) if cue else None), row["id"])  # fmt: skip


def _escalation(row: dict, mention: dict, ours: set[str]) -> Verdict | None:
    """Escalated when the follow-up tags others, calls in the press or a regulator, or is more negative."""
    others = tagged_others(row.get("text") or "", ours | tags(mention.get("text") or ""))
    if others:
        why = "The customer tagged other accounts: " + ", ".join(f"@{o}" for o in others[:5]) + "."
        return Verdict("escalated", _evidence("tagged_others", why, row, others[0]), row["id"])
    cue = ESCALATION_CUES.search(own_words(row.get("text") or ""))
    if cue:
        return Verdict("escalated", _evidence("press_or_regulator", "The customer calls in the press, a regulator "
                                              "or a lawyer.", row, cue.group(0)), row["id"])  # fmt: skip
    before, after = _scores(mention).get("negative"), _scores(row).get("negative")
    if _reliable(row) and row.get("sentiment") == "negative" and before is not None and after is not None \
            and after >= before + WORSE_BY:  # fmt: skip
        why = f"The follow-up is more negative than the complaint (negative {after:.2f}, was {before:.2f})."
        return Verdict("escalated", _evidence("more_negative", why, row), row["id"])
    return None


def _latest_says(row: dict, mention: dict) -> Verdict:
    """Still unhappy, satisfied or neutral, from the customer's latest follow-up."""
    text = own_words(row.get("text") or "")
    repeat = REPEAT_CUES.search(text)
    negative = _reliable(row) and row.get("sentiment") == "negative"
    if negative or repeat:
        why = "The follow-up is negative." if negative else "The follow-up repeats the complaint."
        return Verdict("still_unhappy", _evidence("negative" if negative else "repeats", why, row,
                                                  repeat.group(0) if repeat else None), row["id"])  # fmt: skip
    thanks = urgency.PRAISE_CUES.search(text)
    if (_reliable(row) and row.get("sentiment") == "positive") or thanks:
        why = "The customer thanks us." if thanks else "The follow-up is positive."
        recovered = mention.get("sentiment") == "negative"
        return Verdict("satisfied", _evidence("thanks" if thanks else "positive", why, row,
                                              thanks.group(0) if thanks else None), row["id"], recovered)  # fmt: skip
    shared = sorted(set(_intents(row)) & set(_intents(mention)) - NOT_THEMES)
    if shared:
        why = f"The follow-up raises the same problem again ({shared[0].replace('_', ' ')})."
        return Verdict("still_unhappy", _evidence("repeats", why, row, shared[0]), row["id"])
    return Verdict("neutral", _evidence("neutral", "The customer answered, neither pleased nor complaining.", row),
                   row["id"])  # fmt: skip


def judge(mention: dict, followups: list[dict], answered_at: datetime, now: datetime, silent_hours: float,
          ours: set[str]) -> Verdict:  # fmt: skip
    """The outcome of one answered mention from its follow-ups (``ours``: the brand's handles, lower case)."""
    mine = [f for f in followups if f.get("by_customer")]
    for row in mine:
        verdict = _churn(row) or _escalation(row, mention, ours)
        if verdict:
            return verdict
    if mine:
        return _latest_says(mine[-1], mention)
    deadline = answered_at + timedelta(hours=silent_hours)
    since = f"since our reply at {store.utc_text(answered_at)}"
    if now >= deadline:
        why = f"No follow-up from the customer {since} ({silent_hours:g} h window)."
        return Verdict("silent", _evidence("silent", why))
    return Verdict("no_reply_yet", _evidence("waiting", f"No follow-up from the customer yet {since}; silent "
                                             f"after {store.utc_text(deadline)}."))  # fmt: skip


def brand_handles(settings: Settings, brand_name: str) -> set[str]:
    """Every handle of a brand on every network, lower case (a brand tagging itself is no escalation)."""
    found: set[str] = set()
    for brand in settings.brands:
        if brand.name == brand_name:
            for platform in ("x", "reddit", "bluesky", "mastodon"):
                try:
                    found |= {h.lower().lstrip("@").split("@")[0] for h in brand.handles(platform)}
                except (AttributeError, KeyError, ValueError):
                    continue
    return found


def refresh(db, settings: Settings, since: str | None = None) -> int:
    """Link new follow-ups and recompute the outcome of every mention answered since ``since``; return how many."""
    if since is None:
        window = max(settings.outcomes.follow_days * 24, settings.outcomes.silent_hours) + 24
        since = store.utc_text(clock.now() - timedelta(hours=window))
    store.link_followups(db, since)
    answered = store.answered_since(db, since)
    followups = store.followups_of(db, [m["id"] for m in answered])
    now, rows, handles = clock.now(), [], {}
    for mention in answered:
        ours = handles.setdefault(mention["brand"], brand_handles(settings, mention["brand"]))
        answered_at = store.parse_utc(mention["sent_at"])
        verdict = judge(
            mention, followups[mention["id"]], answered_at, now, settings.outcomes.silent_hours, ours
        )
        rows.append({
            "mention_id": mention["id"], "outcome": verdict.outcome, "evidence": verdict.evidence,
            "followup_id": verdict.followup_id, "reply_id": mention["reply_id"], "brand": mention["brand"],
            "platform": mention["platform"], "agent": mention["agent"], "theme": theme_of(mention),
            "sentiment_before": mention["sentiment"],
            "answered_at": mention["sent_at"], "recovered": int(verdict.recovered), "decided_at": store.utc_text(now),
        })  # fmt: skip
    store.save_outcomes(db, rows)
    return len(rows)
