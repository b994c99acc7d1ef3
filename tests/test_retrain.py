"""Retraining from console corrections, the evaluation gate, and the schedule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from browser_helpers import add_users, csrf_from, login

import clock
import store
from classifier import retrain
from classifier.data import read_labeled

PRODUCTS = ["parcel", "order", "delivery", "package", "refund", "courier", "tracking page", "driver"]

SARCASM = [f"Oh great, my {p} is late again. Thanks a lot Parcelo, really impressive" for p in PRODUCTS]
PLAIN_NEGATIVE = [f"Parcelo lost my {p} and nobody answers, this is terrible" for p in PRODUCTS]
PLAIN_POSITIVE = [f"I love Parcelo, my {p} came early and the service was wonderful" for p in PRODUCTS]
MORE_POSITIVE = [
    f"Fantastic job Parcelo, the {p} experience made my day, thank you so much" for p in PRODUCTS
]


def _mentions(db, texts: list[str]) -> list[int]:
    """Store mentions with these texts; return their ids."""
    rows = [{"platform": "x", "external_id": f"r{i}", "brand": "Parcelo", "text": text,
             "created_at": "2026-11-18T09:00:00Z", "language": "en"} for i, text in enumerate(texts)]  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, rows)
    return [store.mention_id(db, "x", row["external_id"]) for row in rows]


def _correct_over_http(client, db, corrections: dict[int, str]) -> None:
    """An agent corrects each mention's sentiment through the console's form."""
    add_users(db)
    assert login(client, "sam").status_code == 302
    for mention_id, label in corrections.items():
        token = csrf_from(client.get(f"/m/{mention_id}").get_data(as_text=True))
        response = client.post(f"/m/{mention_id}/correct",
                               data={"field": "sentiment", "value": label, "csrf_token": token})  # fmt: skip
        assert response.status_code == 302


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite"], indirect=True
)  # training dominates; the store parts run on both below
def test_retrain_from_console_corrections(client, db, runner):
    """Corrections made in the console train a candidate that is promoted or rejected, with its figures."""
    ids = _mentions(db, SARCASM + PLAIN_NEGATIVE + PLAIN_POSITIVE)
    labels = ["negative"] * 16 + ["positive"] * 8
    _correct_over_http(client, db, dict(zip(ids, labels, strict=True)))
    assert len(store.training_corrections(db)) == 24

    result = runner(["retrain", "--max-steps", "6", "--no-rescore"])
    assert result.exit_code == 0, result.output
    assert "on 3000 replay examples" in result.output
    assert "frozen set" in result.output and "held-back corrections" in result.output
    (version,) = [v for v in store.model_versions(db) if v["version"] == "v2"]
    frozen = version["figures"]["frozen"]
    assert frozen["active"]["n"] == frozen["candidate"]["n"] == 1000
    assert 60 < frozen["active"]["macro_recall"] < 85
    active = store.active_model_version(db)["version"]
    if "promoted and now active" in result.output:
        assert version["status"] == "active" and active == "v2" and version["promoted_at"]
    else:
        assert "rejected; the active model is unchanged" in result.output
        assert version["status"] == "rejected" and active == "bundled"
    listing = runner(["model", "list"]).output
    assert "v2" in listing and "bundled" in listing


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite"], indirect=True
)  # training dominates; the store parts run on both below
def test_regression_is_rejected(client, db, runner, settings):
    """Corrections that contradict the frozen set pull the candidate down; the gate keeps the active model."""
    ids = _mentions(db, PLAIN_NEGATIVE + PLAIN_POSITIVE + MORE_POSITIVE + SARCASM)
    flipped = ["positive"] * 8 + ["negative"] * 16 + ["positive"] * 8
    _correct_over_http(client, db, dict(zip(ids, flipped, strict=True)))
    result = runner(["retrain", "--max-steps", "10", "--lr", "1e-2"])
    assert result.exit_code == 0, result.output
    assert "rejected; the active model is unchanged" in result.output
    assert "of frozen-set macro-recall" in result.output
    version = store.get_model_version(db, "v2")
    frozen = version["figures"]["frozen"]
    assert frozen["candidate"]["macro_recall"] < frozen["active"]["macro_recall"] - 0.5
    assert version["status"] == "rejected"
    assert store.active_model_version(db)["version"] == "bundled"
    card = (settings.db_path.parent / "models" / "versions" / "v2" / "MODEL_CARD.json").read_text()
    assert '"decision": "rejected"' in card and '"up_to_correction_id"' in card
    assert runner(["model", "promote", "v2"]).exit_code == 1


def test_retrain_needs_corrections(runner, db):
    """Without corrections there is nothing to learn from."""
    result = runner(["retrain", "--max-steps", "2"])
    assert result.exit_code == 1 and "no staff sentiment corrections" in result.output


def test_split_corrections():
    """Latest correction per text wins, frozen-set texts never train, and the held-back draw is stable."""
    rows = [
        {"mention_id": 1, "text": "late  again", "label": "neutral"},
        {"mention_id": 2, "text": "late again", "label": "negative"},
        {"mention_id": 3, "text": "a frozen tweet", "label": "positive"},
    ] + [{"mention_id": 10 + i, "text": f"text {i}", "label": "positive"} for i in range(200)]
    train, held = retrain.split_corrections(rows, 0.2, {"a frozen tweet"})
    assert len(train.texts) + len(held.texts) == 201
    assert "a frozen tweet" not in train.texts + held.texts
    everything = dict(zip(train.texts + held.texts, train.labels + held.labels, strict=True))
    assert everything["late again"] == 0  # negative, the later correction
    assert 20 <= len(held.texts) <= 60
    assert (
        retrain.split_corrections(rows, 0.2, set())[1].texts
        == retrain.split_corrections(rows, 0.2, set())[1].texts
    )


def test_frozen_set_is_not_in_the_replay_data():
    """The frozen evaluation set and the replay slice share no text."""
    frozen = set(read_labeled(retrain.FROZEN).texts)
    assert len(frozen) == 1000
    assert not frozen & set(read_labeled(retrain.REPLAY).texts)


@pytest.mark.parametrize("enabled, corrections, days_since, due", [
    (False, 80, None, False), (True, 10, None, False), (True, 80, None, True),
    (True, 80, 3, False), (True, 80, 8, True),
])  # fmt: skip
def test_schedule(db, settings, enabled, corrections, days_since, due):
    """`run` retrains weekly when on, once enough corrections are new."""
    config = dataclasses.replace(settings.classifier.retrain, enabled=enabled)
    chosen = dataclasses.replace(
        settings, classifier=dataclasses.replace(settings.classifier, retrain=config)
    )
    ids = _mentions(db, [f"mention {i}" for i in range(corrections)])
    for mention_id in ids:
        store.add_correction(db, mention_id, "sentiment", "negative", "sam")
    if days_since is not None:
        clock.start_at(store.utc_text(clock.now() - timedelta(days=days_since)))
        store.add_model_version(db, "v2", "v2", "rejected", {}, "test", "bundled", 0)
        clock.start_at(store.utc_text(clock.now() + timedelta(days=days_since)))
    assert retrain.due(db, chosen) is due


def test_latest_correction_per_mention(db):
    """Retraining reads one correction per mention, the latest, with its text."""
    first, second = _mentions(db, ["late again", "fine thanks"])
    store.add_correction(db, first, "sentiment", "neutral", "alex")
    store.add_correction(db, second, "sentiment", "positive", "sam")
    store.add_correction(db, first, "sentiment", "negative", "sam")
    store.add_correction(db, second, "urgent", "true", "sam")
    rows = store.training_corrections(db)
    assert [(r["mention_id"], r["text"], r["label"]) for r in rows] == [
        (second, "fine thanks", "positive"), (first, "late again", "negative")]  # fmt: skip
    assert store.new_corrections(db) == 3


def test_run_schedules_retraining_only_when_on(settings):
    """`run` starts the retrain schedule only with `[classifier.retrain] enabled = true`."""
    assert retrain.start_background(settings, print) is None
    config = dataclasses.replace(settings.classifier.retrain, enabled=True)
    chosen = dataclasses.replace(
        settings, classifier=dataclasses.replace(settings.classifier, retrain=config)
    )
    job = retrain.start_background(chosen, print)
    try:
        assert job.thread.is_alive() and job.tick == retrain.SCHEDULE_TICK
    finally:
        job.stop()
