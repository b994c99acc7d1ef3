"""How long a reply is in each platform's own terms (X's weighted count, Reddit's plain length,
Bluesky's and Mastodon's grapheme clusters).

Bluesky: at most 300 graphemes (what a reader sees as one character), links written out.
Mastodon: the limit the server reports (500 unless it says otherwise); graphemes, with any
link counting 23 and a mention of user@server counting as @user.

X (twitter-text v3): most characters weigh 1, but code points outside Latin,
punctuation and similar ranges (CJK, Thai is inside the light range) weigh 2;
any URL counts as 23; an emoji, including a ZWJ sequence or one with a skin
tone or variation selector, counts as 2. static/compose.js mirrors this.
"""

from __future__ import annotations

import re
import unicodedata

import regex

LIMITS = {"x": 280, "reddit": 10_000, "bluesky": 300, "mastodon": 500}
DEFAULT_LIMIT = 10_000
URL_WEIGHT = 23
URL_RE = re.compile(r"https?://[^\s]+|\bwww\.[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|ly)(?:/[^\s]*)?",
                    re.IGNORECASE)  # fmt: skip
# twitter-text's ranges of weight 1 (everything else weighs 2).
LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF), (0x1F1E6, 0x1F1FF))
FLAGS = ((0x1F1E6, 0x1F1FF),)
ZWJ = 0x200D
MARKS = {0xFE0E, 0xFE0F, 0x20E3}
MODIFIERS = ((0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))
KEYCAP_BASES = set(map(ord, "0123456789#*"))


MASTODON_URL = re.compile(r"https?://\S+")
MASTODON_MENTION = re.compile(r"(@[\w.]+)@[\w.-]*\w")


def limit(platform: str, reported: int | None = None) -> int:
    """The most a reply may weigh on this platform; a limit the server reported (Mastodon) wins."""
    return reported if reported else LIMITS.get(platform, DEFAULT_LIMIT)


def length(text: str, platform: str) -> int:
    """The reply's length as the platform counts it."""
    if platform == "x":
        return weighted_length(text)
    if platform == "bluesky":
        return graphemes(text)
    if platform == "mastodon":
        return mastodon_length(text)
    return len(text)


def graphemes(text: str) -> int:
    """The number of grapheme clusters (a flag, a family emoji or e + accent is one)."""
    return len(regex.findall(r"\X", text))


def mastodon_length(text: str) -> int:
    """Mastodon's count: graphemes, each link 23, a user@server mention as @user."""
    links = len(MASTODON_URL.findall(text))
    rest = MASTODON_MENTION.sub(r"\1", MASTODON_URL.sub("", text))
    return graphemes(rest) + links * URL_WEIGHT


def weighted_length(text: str) -> int:
    """X's weighted length: URLs 23, emoji 2, CJK and other heavy scripts 2, the rest 1."""
    text = unicodedata.normalize("NFC", text)
    total, last = 0, 0
    for match in URL_RE.finditer(text):
        total += _weigh(text[last : match.start()]) + URL_WEIGHT
        last = match.end()
    return total + _weigh(text[last:])


def _in(code: int, ranges) -> bool:
    """Whether a code point falls in one of the inclusive ranges."""
    return any(lo <= code <= hi for lo, hi in ranges)


def _weigh(text: str) -> int:
    """Weighted length of text with no URLs in it."""
    codes = [ord(c) for c in text]
    total, i = 0, 0
    while i < len(codes):
        if _starts_emoji(codes, i):
            i = _emoji_end(codes, i)
            total += 2
        else:
            total += 1 if _in(codes[i], LIGHT_RANGES) else 2
            i += 1
    return total


def _starts_emoji(codes: list[int], i: int) -> bool:
    """Whether an emoji (or keycap sequence like 1️⃣) starts at index i."""
    if _in(codes[i], EMOJI_RANGES):
        return True
    return codes[i] in KEYCAP_BASES and i + 1 < len(codes) and codes[i + 1] in MARKS


def _emoji_end(codes: list[int], i: int) -> int:
    """Index just past the emoji sequence (flags, ZWJ joins, skin tones, selectors) at i."""
    flag = _in(codes[i], FLAGS)
    i += 1
    if flag and i < len(codes) and _in(codes[i], FLAGS):
        return i + 1
    while i < len(codes):
        if codes[i] == ZWJ and i + 1 < len(codes):
            i += 2
        elif codes[i] in MARKS or _in(codes[i], MODIFIERS):
            i += 1
        else:
            break
    return i
