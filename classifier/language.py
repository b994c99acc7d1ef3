"""Decide whether a mention is English, the only language the sentiment model was trained on."""

from __future__ import annotations

import re
import unicodedata

# Language tags that say nothing about the language (X uses und, zxx and q* codes).
UNKNOWN_TAGS = {"", "und", "zxx", "mul", "unknown", "qme", "qht", "qam", "qct", "qst"}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

ENGLISH_WORDS = frozenset(
    "the a an and or but is are was were be been i you he she it we they my your our their this that "
    "with for of to in on at from not no have has had do does did can can't cannot will would should "
    "just so what when why how who me us them its it's i'm don't doesn't".split()
)

# Common function words of other Latin-script languages Earshot meets often.
OTHER_WORDS = frozenset(
    # Spanish
    "el la los las un una y o pero es son fue está están estoy mi mis tu su nuestro que qué por para "
    "con sin del al de en no sí muy ya hoy porque cuando cómo desde hace nada nadie todo pedido llegó "
    "ha han hay he tengo tiene también ayer mañana gracias todavía aún ni lo le se les nos este esta "
    "eso esto dos días semanas "
    # Portuguese
    "o os as um uma é são não você meu minha seu sua com sem do da dos das em até muito está "
    # French
    "le les une et ou mais est sont je tu il elle nous vous ils mon ma mes ton ta ses avec pour dans "
    "pas ne ce cette qui au aux du des sur très "
    # German
    "der die das ein eine und oder aber ist sind ich du er sie wir ihr mein meine dein mit für von "
    "zu im nicht kein keine auch noch schon sehr".split()
)


def _script_share(text: str) -> float:
    """Share of letters that are not Latin script (Thai, CJK, Cyrillic, Arabic...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    other = sum(1 for c in letters if not unicodedata.name(c, "LATIN").startswith("LATIN"))
    return other / len(letters)


def looks_english(text: str) -> bool:
    """A cheap guess from script and function words; short or unclear text counts as English."""
    if _script_share(text) > 0.3:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(w in ENGLISH_WORDS and w not in OTHER_WORDS for w in words)
    other = sum(w in OTHER_WORDS and w not in ENGLISH_WORDS for w in words)
    if re.search(r"[ñ¿¡ãõçœß]", text.lower()):
        other += 1
    return not (other >= 2 and other > english)


def is_english(text: str, language: str | None = None) -> bool:
    """True when the platform's language tag, or failing that the text, says English."""
    tag = (language or "").strip().lower()
    if tag not in UNKNOWN_TAGS:
        return tag == "en" or tag.startswith("en-") or tag.startswith("en_")
    return looks_english(text)
