"""Urgency on realistic mentions: actionable complaints rank ahead of praise, news, chatter and spam."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier import pipeline
from classifier.model import load_model

FIXTURE = Path(__file__).parent / "fixtures" / "classifier" / "ranking.jsonl"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MIN_AUC = 0.9


def roc_auc(labels: list[bool], scores: list[float]) -> float:
    """Chance that a random actionable mention outranks a random other one (ties count half)."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


@pytest.fixture(scope="module")
def ranked():
    """The fixture mentions with their urgency, scored by the bundled model."""
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    from settings import load

    settings = load()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        scored = pipeline.score_rows(load_model(), rows, settings, NOW)
    return rows, scored


def test_fixture_is_balanced_and_multilingual(ranked):
    """The fixture mixes both classes and three languages."""
    rows, _ = ranked
    assert len(rows) >= 40
    assert 0.3 < sum(r["actionable"] for r in rows) / len(rows) < 0.7
    assert {r["language"] for r in rows} == {"en", "es", "th"}


def test_actionable_mentions_rank_first(ranked, capsys):
    """ROC AUC of urgency for 'actionable' is high, in every language."""
    rows, scored = ranked
    auc = roc_auc([r["actionable"] for r in rows], [s["urgency"] for s in scored])
    with capsys.disabled():
        print(f"\nurgency ROC AUC on {len(rows)} realistic mentions: {auc:.3f}")
    assert auc >= MIN_AUC


def test_non_english_still_ranked(ranked):
    """Spanish and Thai complaints outrank Spanish and Thai praise and spam."""
    rows, scored = ranked
    other = [
        (r["actionable"], s["urgency"]) for r, s in zip(rows, scored, strict=True) if r["language"] != "en"
    ]
    assert roc_auc([a for a, _ in other], [u for _, u in other]) >= MIN_AUC
