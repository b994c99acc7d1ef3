"""The words and two-word phrases that mark negative mentions, compared with the rest.

Each term is scored by the z-score of its log odds ratio: how much likelier a negative
mention is to contain it than another mention, divided by that estimate's standard
error (with 0.5 added to each cell). Frequent and distinctive terms score highest, and
a term seen in a handful of posts cannot top the list by chance. Terms need MIN_MENTIONS
negative mentions and a z of at least MIN_Z (one standard error above even odds).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from settings import Settings

MIN_MENTIONS = 3
MIN_Z = 1.0
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+|(?<![\w/])[ru]/\w+")
# A word (letters and digits, plus the Thai block whole: its vowel marks are not \w), or a
# clause break: phrases never span one.
_WORD_PATTERN = r"(?:[^\W_]|[\u0e00-\u0e7f])(?:[\w'\u0e00-\u0e7f]*(?:[^\W_]|[\u0e00-\u0e7f]))?"
_WORD = re.compile(_WORD_PATTERN)
_PIECE = re.compile(_WORD_PATTERN + r"|[.!?;:,()\n]")
NEGATIONS = frozenset("no not never nothing can't cannot won't isn't doesn't don't didn't".split())
# Common function words. Negations (no, not, never, can't...) are kept on purpose, as
# the first word of a phrase: "not working" and "no signal" are what complaints are made of.
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could
did do does doing for from get got had has have having he her here hers him his how i i'm
i've if in into is it it's its just me more most my myself now of off on once only or other
our ours out over own same she so some such than that that's the their theirs them then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself since still even really much one also ever de la el en que y los las del por
un una es se lo con para
""".split())  # fmt: skip


def ignored_words(settings: Settings) -> frozenset[str]:
    """Brand names and handles: they are in every mention, so they say nothing."""
    words: set[str] = set()
    for brand in settings.brands:
        words.update(w.lower() for w in _WORD.findall(brand.name))
        words.add(re.sub(r"\W", "", brand.name.lower()))
        for platform in ("x", "reddit"):
            words.update(h.lower() for h in brand.handles(platform))
    return frozenset(words)


def _plain(text: str) -> str:
    """Lower-case text without links, @handles and r/ or u/ names (the checks skip the slow part)."""
    text = (text or "").lower().replace("’", "'")
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text or "/" in text:
        text = _HANDLE.sub(" ", text)
    return text


def tokens(text: str) -> list[str]:
    """Lower-case words of a post, without links, @handles and r/ or u/ names."""
    return _WORD.findall(_plain(text))


def features(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """The distinct words and adjacent word pairs (within a clause) of a post that can be terms.

    A word is left out when it is a stopword, a brand word (in `ignore`), a bare number or
    one character (clause breaks are single characters too); a negation only starts phrases.
    """
    return _features(text, ignore | STOPWORDS)


def feature_sets(texts: Iterable[str], ignore: frozenset[str] = frozenset()) -> list[set[str]]:
    """The features of each text, computed once for scoring and for finding examples."""
    skip = ignore | STOPWORDS
    return [_features(text, skip) for text in texts]


def _features(text: str, skip: frozenset[str]) -> set[str]:
    """features() with the words to leave out already merged."""
    found: set[str] = set()
    previous = None
    for piece in _PIECE.findall(_plain(text)):
        if len(piece) < 2 or piece in skip or piece.isdigit():
            previous = None
            continue
        if piece not in NEGATIONS:
            found.add(piece)
        if previous:
            found.add(previous + " " + piece)
        previous = piece
    return found


def distinctive_terms(negative_sets: list[set[str]], other_sets: list[set[str]], limit: int = 10) -> list[dict]:
    """Terms much likelier in the negative texts than in the others, best first.

    Takes feature_sets() of each side. A term that shares a word with a better one
    is left out, so "no signal" and "signal" do not both take a place.
    """
    in_negative = Counter(term for found in negative_sets for term in found)
    in_other = Counter(term for found in other_sets for term in found)
    scored = []
    for term, count in in_negative.items():
        if count >= MIN_MENTIONS:
            z = log_odds_z(count, len(negative_sets), in_other[term], len(other_sets))
            if z >= MIN_Z:
                scored.append((z, count, term))
    chosen: list[dict] = []
    used: set[str] = set()
    for z, count, term in sorted(scored, key=lambda s: (-s[0], -s[1], s[2])):
        words = set(term.split())
        if words & used:
            continue
        used |= words
        chosen.append({"term": term, "negative": count, "other": in_other[term], "z": round(z, 2),
                       "negative_share": _share(count, len(negative_sets)),
                       "other_share": _share(in_other[term], len(other_sets))})  # fmt: skip
        if len(chosen) == limit:
            break
    return chosen


def log_odds_z(a: int, n_a: int, b: int, n_b: int) -> float:
    """z-score of the log odds ratio of a term in a of n_a texts versus b of n_b (0.5 added per cell)."""
    cells = (a + 0.5, n_a - a + 0.5, b + 0.5, n_b - b + 0.5)
    log_ratio = math.log(cells[0] / cells[1]) - math.log(cells[2] / cells[3])
    return log_ratio / math.sqrt(sum(1 / c for c in cells))


def examples_for(term: str, mentions: list[dict], sets: list[set[str]], count: int = 2) -> list[dict]:
    """Up to `count` of the mentions (with their feature sets) that contain the term."""
    return [mention for mention, found in zip(mentions, sets, strict=True) if term in found][:count]


def _share(part: int, whole: int) -> float | None:
    """part / whole in percent, rounded to 0.1."""
    return round(part / whole * 100, 1) if whole else None
